/**
 * The neural cache (after Grave, Joulin & Usunier 2017): the document at hand, remembered
 * through the network's own reading of it. For each of the last NEURAL_CACHE_TOKENS
 * positions it keeps the top layer's output there (the network's summary of the text up to
 * that word), the word read there and the word that came next. The next word now is
 * predicted as the words that came after the same word before, each weighted by how alike
 * the summary now is to the one it followed:
 *
 *   P_neural(w) ∝ Σ over remembered positions i that read the word just read, followed by w, of exp(θ · h_now · h_i)
 *
 * The token cache (mixture.ts) knows which words the document uses; this one knows after
 * what: a README that wrote "npm install" before its package's name writes it there again.
 * Only positions that read the same word count: the summaries of neighbouring positions
 * are alike whatever was read, and with them the cache mostly predicted the word just read
 * again ("All All"). And a word read once before is weak evidence of what follows it
 * now: with n earlier readings the cache keeps n / (n + β) of its share and gives the rest
 * to the network (β, the evidence it takes to be half sure), so that "are" once followed by
 * "added" does not make "added" the likeliest word after every "are". Where the word was
 * not read before, all of its share goes to the network. The flatness θ and β are fitted on
 * held-out text with the mixture's weights.
 */
import * as tf from '@tensorflow/tfjs';

/** Positions remembered: a few pages, as the token cache. */
export const NEURAL_CACHE_TOKENS = 1000;

/** How the cache weighs what it remembers. */
export interface NeuralCacheSettings {
  /** θ: how much more alike summaries count. */
  flatness: number;
  /** β: earlier readings of a word that make the cache half sure of what follows it. */
  evidence: number;
}

/** Settings tried when fitting: the dot products of tanh outputs of 64–512 units span tens. */
export const NEURAL_CACHE_CANDIDATES: readonly NeuralCacheSettings[] = [0.1, 0.3, 1, 3].flatMap((flatness) =>
  [0.5, 1, 2, 4, 8].map((evidence) => ({ flatness, evidence })),
);

/**
 * Weights exp(θ · dots[i]) normalised to sum to 1 (in place of `dots`): how much each
 * remembered position speaks for the word that followed it.
 */
function similarityWeights(dots: Float64Array, flatness: number): Float64Array {
  let max = -Infinity;
  for (const d of dots) max = Math.max(max, flatness * d);
  let total = 0;
  for (let i = 0; i < dots.length; i++) total += dots[i] = Math.exp(flatness * dots[i] - max);
  for (let i = 0; i < dots.length; i++) dots[i] /= total;
  return dots;
}

/** What the neural cache remembers of a text, oldest first: position i read `read[i]`, then came `next[i]`. */
export interface RememberedPositions {
  /** The top layer's output at each position. */
  keys: readonly ArrayLike<number>[];
  read: readonly number[];
  next: readonly number[];
}

/** The share of its weight the cache keeps with `n` earlier readings of the word just read. */
function trust(n: number, settings: NeuralCacheSettings): number {
  return n / (n + settings.evidence);
}

/**
 * Adds the neural cache's part of `weight` × its distribution to `out`, after reading
 * `current` with top-layer output `query`; only the last NEURAL_CACHE_TOKENS positions
 * count. Returns the part of `weight` it gave (0 when none of them read `current`); the
 * rest is the network's.
 */
export function addNeuralCache(
  out: Float32Array,
  weight: number,
  query: ArrayLike<number>,
  current: number,
  memory: RememberedPositions,
  settings: NeuralCacheSettings,
): number {
  const from = Math.max(0, memory.keys.length - NEURAL_CACHE_TOKENS);
  const same: number[] = [];
  for (let i = from; i < memory.keys.length; i++) if (memory.read[i] === current) same.push(i);
  if (same.length === 0) return 0;
  const dots = Float64Array.from(same, (i) => {
    const key = memory.keys[i];
    let dot = 0;
    for (let u = 0; u < query.length; u++) dot += query[u] * key[u];
    return dot;
  });
  const weights = similarityWeights(dots, settings.flatness);
  const given = weight * trust(same.length, settings);
  same.forEach((i, k) => (out[memory.next[i]] += given * weights[k]));
  return given;
}

/** Queries scored per matrix product: the products stay a few MB. */
const CHUNK = 256;

/**
 * The neural cache's probability of every target of `stream[1..]` under each of
 * `settings`, the cache filling as the stream is read, with the share it does not keep
 * given to the network's probability `network[t]` (as the suggestions do). `hidden` holds
 * the top layer's output after each input, [targets × units] in stream order: row t read
 * stream[t] and predicts stream[t + 1]. Target t's cache is the positions
 * t − NEURAL_CACHE_TOKENS … t − 1.
 */
export function neuralCacheProbabilities(
  stream: Int32Array,
  hidden: Float32Array,
  units: number,
  network: Float64Array,
  settings: readonly NeuralCacheSettings[],
): Float64Array[] {
  const targets = Math.max(stream.length - 1, 0);
  if (hidden.length !== targets * units) throw new Error(`${hidden.length / units} hidden rows for ${targets} targets.`);
  const columns = settings.map(() => new Float64Array(targets));
  for (let first = 1; first < targets; first += CHUNK) {
    const end = Math.min(targets, first + CHUNK);
    // Every query of the chunk against every position any of them remembers.
    const keysFrom = Math.max(0, first - NEURAL_CACHE_TOKENS);
    const keyCount = end - 1 - keysFrom;
    const product = tf.tidy(() =>
      tf.matMul(
        tf.tensor2d(hidden.subarray(first * units, end * units), [end - first, units]),
        tf.tensor2d(hidden.subarray(keysFrom * units, (end - 1) * units), [keyCount, units]),
        false,
        true,
      ),
    );
    const dots = product.dataSync();
    product.dispose();
    for (let t = first; t < end; t++) {
      const same: number[] = [];
      for (let i = Math.max(0, t - NEURAL_CACHE_TOKENS); i < t; i++) if (stream[i] === stream[t]) same.push(i);
      const row = (t - first) * keyCount - keysFrom;
      settings.forEach((setting, k) => {
        const weights = similarityWeights(Float64Array.from(same, (i) => dots[row + i]), setting.flatness);
        const hit = same.reduce((sum, i, j) => (stream[i + 1] === stream[t + 1] ? sum + weights[j] : sum), 0);
        const kept = trust(same.length, setting);
        columns[k][t] = kept * hit + (1 - kept) * network[t];
      });
    }
  }
  // The first target has nothing remembered before it.
  if (targets > 0) columns.forEach((column) => (column[0] = network[0]));
  return columns;
}
