/**
 * Next-word prediction with a trained model. The predictor is stateful: it remembers the
 * text it has read and the recurrent state after it, so a request whose text extends the
 * last one costs only the new tokens. When the text before the cursor changed elsewhere it
 * re-reads the tail of the text in one pass.
 */
import * as tf from '@tensorflow/tfjs';
import { RecurrentStep, type LayerState } from './cells';
import { modelParts, type ModelParts } from './model';
import { Random } from './random';
import { NEWLINE_TOKEN, type Tokenizer } from './tokenizer';

/** Characters of text re-read on a full pass: recurrent nets forget far context anyway. */
export const FULL_PASS_CHARACTERS = 4000;

export interface Candidate {
  id: number;
  token: string;
  probability: number;
}

export interface SuggestOptions {
  /** Whole words to add after the one being typed. */
  maxWords: number;
  /** Stop adding words once the model is less sure than this of the next one. */
  minConfidence: number;
}

export interface Suggestion {
  /** Text to insert at the cursor: the rest of the word being typed, then whole words. */
  text: string;
  tokens: string[];
  /** Probability of each token given the text before it (the first one given the typed prefix). */
  confidences: number[];
}

export interface GenerateOptions {
  words: number;
  /** 0 = always the most likely token; higher = more varied. */
  temperature: number;
  seed?: number;
}

/** The recurrent state of every layer after reading some text. Owns its tensors. */
class ReadState {
  constructor(readonly layers: LayerState[]) {}
  get top(): tf.Tensor2D {
    return this.layers[this.layers.length - 1][0];
  }
  dispose(): void {
    tf.dispose(this.layers.flat());
  }
}

export class Predictor {
  private readonly parts: ModelParts;
  private readonly steps: RecurrentStep[];
  /** Text whose tokens have been read into `state`; always ends at a token boundary. */
  private readText = '';
  private state: ReadState;
  /** Counts of tokens fed through the network, for tests and benchmarks. */
  readonly stats = { tokensRead: 0, fullPasses: 0 };

  constructor(
    model: tf.LayersModel,
    readonly tokenizer: Tokenizer,
  ) {
    this.parts = modelParts(model);
    this.steps = this.parts.recurrent.map((w) => new RecurrentStep(this.parts.cell, this.parts.units, w));
    this.state = this.zeroState();
  }

  /** Probabilities of every vocabulary entry coming next after `text`. */
  nextProbabilities(text: string): Float32Array {
    return this.probabilities(this.readUpTo(text));
  }

  /**
   * The k most likely next tokens after `textBefore`. If it ends inside a word, only
   * tokens that start with the typed part, with probabilities renormalised over them.
   */
  topK(textBefore: string, k: number): Candidate[] {
    const { context, partial } = this.splitPartialWord(textBefore);
    return this.rank(this.probabilities(this.readUpTo(context)), k, partial);
  }

  /**
   * Ghost text for the cursor at the end of `textBefore`: completes the word being typed,
   * then adds the most likely words while the model is confident enough, up to the end of
   * the line. Undefined when the model has nothing confident to offer.
   */
  suggest(textBefore: string, options: SuggestOptions): Suggestion | undefined {
    const { context, partial } = this.splitPartialWord(textBefore);
    let state = this.readUpTo(context);
    let probabilities = this.probabilities(state);
    const tokens: string[] = [];
    const confidences: number[] = [];
    const limit = options.maxWords + (partial ? 1 : 0);
    try {
      while (tokens.length < limit) {
        const [best] = this.rank(probabilities, 1, tokens.length === 0 ? partial : '');
        if (!best || best.probability < options.minConfidence || best.token === NEWLINE_TOKEN) break;
        tokens.push(best.token);
        confidences.push(best.probability);
        if (tokens.length === limit) break;
        const next = this.read([best.id], state);
        if (state !== this.state) state.dispose();
        state = next;
        probabilities = this.probabilities(state);
      }
    } finally {
      if (state !== this.state) state.dispose();
    }
    if (tokens.length === 0) return undefined;
    const text = partial
      ? tokens[0].slice(partial.length) + this.tokenizer.continuation(context + tokens[0], tokens.slice(1))
      : this.tokenizer.continuation(textBefore, tokens);
    return text ? { text, tokens, confidences } : undefined;
  }

  /** Continues `prompt` by `words` tokens, greedy at temperature 0, else sampled. */
  generate(prompt: string, options: GenerateOptions): { text: string; tokens: string[] } {
    const random = new Random(options.seed ?? 1);
    let state = this.readUpTo(prompt);
    const tokens: string[] = [];
    try {
      for (let i = 0; i < options.words; i++) {
        const probabilities = this.probabilities(state);
        probabilities[this.tokenizer.unknownId] = 0;
        const id = options.temperature > 0 ? sample(probabilities, options.temperature, random) : argMax(probabilities);
        tokens.push(this.tokenizer.vocab[id]);
        const next = this.read([id], state);
        if (state !== this.state) state.dispose();
        state = next;
      }
    } finally {
      if (state !== this.state) state.dispose();
    }
    return { text: this.tokenizer.continuation(prompt, tokens), tokens };
  }

  /** Forgets the text read so far. */
  reset(): void {
    this.state.dispose();
    this.state = this.zeroState();
    this.readText = '';
  }

  dispose(): void {
    this.state.dispose();
    this.steps.forEach((s) => s.dispose());
  }

  /**
   * Brings the cached state to the end of `text` (which must end at a token boundary)
   * and returns it. Reads only the new tokens when `text` extends the text read before.
   */
  private readUpTo(text: string): ReadState {
    if (text === this.readText) return this.state;
    let newIds: Int32Array;
    if (text.startsWith(this.readText)) {
      newIds = this.tokenizer.encode(text.slice(this.readText.length));
    } else {
      this.reset();
      this.stats.fullPasses++;
      newIds = this.tokenizer.encode(tailAtWordBoundary(text, FULL_PASS_CHARACTERS));
    }
    if (newIds.length > 0) {
      const next = this.read(newIds, this.state);
      this.state.dispose();
      this.state = next;
    }
    this.readText = text;
    return this.state;
  }

  /** Runs `ids` through the recurrent layers from `from`; returns the new state. */
  private read(ids: ArrayLike<number>, from: ReadState): ReadState {
    this.stats.tokensRead += ids.length;
    const layers = tf.tidy(() => {
      let inputs = tf.gather(this.parts.embeddings, tf.tensor1d(Int32Array.from(ids), 'int32')) as tf.Tensor2D;
      const result: LayerState[] = [];
      this.steps.forEach((step, layer) => {
        // One matmul projects every new token; only the recurrence runs step by step.
        const projections = tf.split(step.project(inputs), ids.length, 0) as tf.Tensor2D[];
        let state = from.layers[layer];
        const outputs: tf.Tensor2D[] = [];
        for (const projection of projections) {
          state = step.step(projection, state);
          outputs.push(state[0]);
        }
        result.push(state);
        inputs = outputs.length === 1 ? outputs[0] : tf.concat(outputs, 0);
      });
      return result;
    });
    return new ReadState(layers);
  }

  private probabilities(state: ReadState): Float32Array {
    const probs = tf.tidy(() =>
      tf.softmax(tf.add(tf.matMul(state.top, this.parts.outputKernel), this.parts.outputBias)),
    );
    const values = probs.dataSync() as Float32Array;
    probs.dispose();
    return values;
  }

  private zeroState(): ReadState {
    return new ReadState(this.steps.map((s) => s.initialState(1)));
  }

  /** The best `k` tokens, never the unknown-word token; restricted to `prefix` if given. */
  private rank(probabilities: Float32Array, k: number, prefix: string): Candidate[] {
    const unknown = this.tokenizer.unknownId;
    const ids = prefix ? this.tokenizer.idsWithPrefix(prefix) : undefined;
    const pool = ids ?? probabilities.keys();
    let total = 0;
    const best: Candidate[] = [];
    for (const id of pool) {
      if (id === unknown) continue;
      const p = probabilities[id];
      total += p;
      if (best.length < k || p > best[best.length - 1].probability) {
        best.push({ id, token: this.tokenizer.vocab[id], probability: p });
        best.sort((a, b) => b.probability - a.probability);
        if (best.length > k) best.pop();
      }
    }
    // With a typed prefix, "how sure" means: of the words that fit what was typed.
    if (ids && total > 0) best.forEach((c) => (c.probability /= total));
    return best;
  }

  /**
   * Splits the text before the cursor into the complete tokens and the word being typed
   * (empty when the cursor follows a space or punctuation).
   */
  private splitPartialWord(textBefore: string): { context: string; partial: string } {
    if (!/[\p{L}\p{N}_]$/u.test(textBefore)) return { context: textBefore, partial: '' };
    const tail = textBefore.slice(-64);
    const tokens = this.tokenizer.tokenize(tail);
    const last = tokens[tokens.length - 1] ?? '';
    if (!last || last.length > tail.length) return { context: textBefore, partial: '' };
    return { context: textBefore.slice(0, textBefore.length - last.length), partial: last };
  }
}

/** The end of `text`, at most `limit` characters, starting after whitespace. */
function tailAtWordBoundary(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const tail = text.slice(-limit);
  const space = tail.search(/\s/);
  return space >= 0 ? tail.slice(space + 1) : tail;
}

function argMax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function sample(probabilities: Float32Array, temperature: number, random: Random): number {
  const weights = new Float64Array(probabilities.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    weights[i] = probabilities[i] > 0 ? Math.pow(probabilities[i], 1 / temperature) : 0;
    total += weights[i];
  }
  let r = random.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r <= 0 && weights[i] > 0) return i;
  }
  return argMax(probabilities);
}
