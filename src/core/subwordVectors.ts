/**
 * Word vectors that share what the words' spellings share (after the subword vectors of
 * fastText, Bojanowski et al. 2017). On one person's text most words are seen a few times,
 * too few to learn a vector each; but "whale", "whales" and "whaling", or "install" and
 * "installs", say much the same about what comes next and what came before. So each
 * word's vector is its own plus a weighted sum of vectors for the letter groups of its
 * spelling that other words of the vocabulary have too:
 *
 *   E = own + M · G,   M[w, g] = 1 / √(groups of w) for each group g of w.
 *
 * Letter groups are the 3- and 4-letter runs of "<word>", case folded, so "<wh", "hal",
 * "les>" and "<whal" are groups of "whales". The model keeps one plain Embedding matrix
 * (the saved format is unchanged): since E is linear in own and G, training keeps E itself
 * and only the update changes. The gradient of G is Mᵀ · (E's gradient); the optimizer
 * takes its step on G alongside the others, and the step M · ΔG is added to E. G's values
 * are never needed, only its step, so its variable holds just the last step, and the
 * optimizer's moments are its whole state.
 */
import * as tf from '@tensorflow/tfjs';
import { addScatteredRows, scatterRows, type SparseRows } from './fast/scatterRows';
import { nativeBackendActive } from './native/ops';
import { NativeSubwordProducts } from './native/subwordProducts';

/** Which letter groups each word has, for a trainer and each thread of a data-parallel one. */
export interface SubwordSettings {
  /** Letter groups in all (rows of G). */
  groups: number;
  /** Word w's groups are groupIds[starts[w] .. starts[w + 1]), with weights at the same places. */
  starts: Int32Array;
  groupIds: Int32Array;
  weights: Float32Array;
}

/** The lengths of the letter runs that make a word's groups, boundaries included. */
const GROUP_LENGTHS = [3, 4];
/**
 * In Chinese, Japanese and Korean a character is a syllable or a morpheme and a word is one
 * to a few of them, so 3 letters with the boundaries would be whole words and no group
 * would be shared; runs of 2 and 3 share a word's first or last character with other words.
 */
const CJK_GROUP_LENGTHS = [2, 3];
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * The letter groups of a vocabulary: those that at least two words have (a group of one
 * word adds nothing to that word's own vector). Words without such groups (`<unk>`,
 * punctuation, rare spellings) keep their own vector alone.
 */
export function subwordSettings(vocab: readonly string[]): SubwordSettings {
  const groupsOf = vocab.map((word) => letterGroups(word));
  const wordsWith = new Map<string, number>();
  for (const groups of groupsOf) for (const group of groups) wordsWith.set(group, (wordsWith.get(group) ?? 0) + 1);
  const ids = new Map<string, number>();
  const starts = new Int32Array(vocab.length + 1);
  const groupIds: number[] = [];
  const weights: number[] = [];
  groupsOf.forEach((groups, word) => {
    const shared = [...groups].filter((group) => wordsWith.get(group)! >= 2);
    for (const group of shared) {
      if (!ids.has(group)) ids.set(group, ids.size);
      groupIds.push(ids.get(group)!);
      weights.push(1 / Math.sqrt(shared.length));
    }
    starts[word + 1] = groupIds.length;
  });
  return { groups: ids.size, starts, groupIds: Int32Array.from(groupIds), weights: Float32Array.from(weights) };
}

/**
 * The distinct 3- and 4-letter runs of "<word>", case folded (2- and 3-letter runs in a
 * word written in Chinese, Japanese or Korean); none for the unknown-word token.
 */
export function letterGroups(word: string): Set<string> {
  const groups = new Set<string>();
  if (word === '<unk>') return groups;
  const letters = [...`<${word.toLowerCase()}>`];
  for (const length of CJK.test(word) ? CJK_GROUP_LENGTHS : GROUP_LENGTHS) {
    for (let at = 0; at + length <= letters.length; at++) groups.add(letters.slice(at, at + length).join(''));
  }
  return groups;
}

export class SubwordVectors {
  /** The last step of G [groups, embedding size]: zero when the optimizer takes the next. */
  readonly step: tf.Variable;
  private readonly zeros: tf.Tensor2D;
  /** M as nonzeros from words to groups (for Mᵀ·g), and the same ones from groups to words (for M·ΔG). */
  private readonly toGroups: SparseRows;
  private readonly toWords: SparseRows;

  private native: NativeSubwordProducts | undefined;

  constructor(
    private readonly settings: SubwordSettings,
    private readonly embeddings: tf.Variable,
  ) {
    const [vocab, size] = embeddings.shape as [number, number];
    const { starts, groupIds, weights, groups } = settings;
    if (starts.length !== vocab + 1) throw new Error(`Letter groups for ${starts.length - 1} words, but the model has ${vocab}.`);
    const wordIds = new Int32Array(groupIds.length);
    for (let word = 0; word < vocab; word++) wordIds.fill(word, starts[word], starts[word + 1]);
    const words = tf.tensor1d(wordIds, 'int32');
    const groupTensor = tf.tensor1d(groupIds, 'int32');
    const weightTensor = tf.tensor1d(weights);
    this.toGroups = { from: words, to: groupTensor, weights: weightTensor };
    this.toWords = { from: groupTensor, to: words, weights: weightTensor };
    this.zeros = tf.zeros([Math.max(groups, 1), size]);
    this.step = tf.variable(this.zeros, true);
  }

  /**
   * G's gradient, Mᵀ · `embeddingGradient` (the gradient of E [vocab, size]). On a sampled
   * softmax most words have none: only the batch's and the drawn ones.
   */
  gradient(embeddingGradient: tf.Tensor): tf.Tensor2D {
    if (nativeBackendActive()) return this.nativeProducts().gradient(embeddingGradient as tf.Tensor2D);
    return scatterRows(embeddingGradient as tf.Tensor2D, this.toGroups, this.step.shape[0], true);
  }

  /** After the optimizer's step: adds M · ΔG to the embeddings, and clears the step for the next. */
  addStep(): void {
    const embeddings = this.embeddings as tf.Tensor2D;
    const step = this.step as tf.Tensor2D;
    tf.tidy(() =>
      this.embeddings.assign(nativeBackendActive() ? this.nativeProducts().addStep(embeddings, step) : addScatteredRows(embeddings, step, this.toWords)),
    );
    this.step.assign(this.zeros);
  }

  dispose(): void {
    this.step.dispose();
    this.zeros.dispose();
    this.native?.dispose();
    tf.dispose([this.toGroups.from, this.toGroups.to, this.toGroups.weights]);
  }

  /** The products as native TensorFlow graphs (native/subwordProducts.ts), made on first use there. */
  private nativeProducts(): NativeSubwordProducts {
    this.native ??= new NativeSubwordProducts(this.settings);
    return this.native;
  }
}
