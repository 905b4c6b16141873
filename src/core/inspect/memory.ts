/**
 * Memory through time: how far back a trained model's predictions reach, measured two
 * ways on held-out text.
 *
 * Gradient through time: for a sample of held-out positions t, the norm of dL_t/dh_{t−k},
 * the gradient of the loss at t with respect to the hidden state k steps earlier, for
 * k = 1 … 64. Each window first reads WARM_UP tokens unperturbed, so the states the
 * gradient passes through are those of a model that has been reading, not of the zero
 * start. With several layers, h is every layer's h at that step taken together, each
 * differentiated as a node of the unrolled graph (a lower layer's h also reaches the layer
 * above at the same step). For LSTM it is h alone (c held fixed): what the next step's
 * gates see.
 *
 * The windows' norms spread over orders of magnitude, so they are averaged as a geometric
 * mean (the mean of their logarithms, the centre a log-scale axis shows); an arithmetic
 * mean would be the few largest windows' value. The 10th and 90th percentiles give the
 * spread.
 *
 * Loss by context: for a sample of held-out targets, the loss (nats) when the model starts
 * from the zero state n tokens before the target, n = 1, 2, 4 … 64; beside it the same
 * targets' loss when the model has read all the held-out text before them.
 *
 * Both run on the reference forward pass (unroll.ts), whose logits match the stock layers'.
 * They are async only to call `between` after each batch: the engine passes a turn of its
 * event loop there, so suggestions are answered while a run is measured (TF.js ops are
 * synchronous, and the whole takes seconds).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors';
import { modelParts, type ModelParts } from '../model';
import { tokenCrossEntropy, targetProbabilitiesPausing } from '../scoring';
import type { ContextCurve, GradientCurve, MemoryCurves } from '../../protocol/memory';
import { unroll } from './unroll';

/** Tokens each gradient window reads before the span whose states are measured. */
export const WARM_UP = 32;
/** The largest lag k of the gradient curve and the longest context of the loss curve. */
export const MAX_LAG = 64;
/** Context lengths of the loss curve. */
export const CONTEXT_LENGTHS = [1, 2, 4, 8, 16, 32, 64];
/** Held-out windows the gradient curve averages over: the curve is smooth at this count and takes seconds at 128 units. */
export const GRADIENT_WINDOWS = 64;
/** Held-out targets the loss curve averages over: ±0.05 nats or so of sampling noise at typical losses. */
export const CONTEXT_POSITIONS = 512;
/**
 * Held-out tokens measured: the full-context reading scores every token up to the last
 * sampled target, so the samples come from the first this-many tokens; that keeps a
 * default-size model's two curves within about 15 s on one core.
 */
export const HELD_OUT_TOKENS = 8192;
/**
 * Windows per backward pass: bounds the tape's memory (~WARM_UP + MAX_LAG steps × a dozen
 * [batch, units] tensors) and how long an engine waits for its next pause (0.2–0.3 s at
 * 128 units on wasm; 16 windows took no less time in all and up to 0.5 s a batch).
 */
const GRADIENT_BATCH = 8;
/** Targets per forward pass of the loss curve: at most ~0.1 s a batch at 128 units (128 took 0.4 s, in no less time in all). */
const CONTEXT_BATCH = 32;
/** Window of the full-context reading (the state carries across windows, so only speed depends on it). */
const FULL_READ_WINDOW = 256;

export interface MemoryOptions {
  maxLag?: number;
  warmUp?: number;
  windows?: number;
  positions?: number;
  contexts?: number[];
  /** Awaited after each batch of windows or targets (the engine yields to its event loop here). */
  between?: () => Promise<void>;
}

const noPause = async (): Promise<void> => {};

/** Positions `from … to` (inclusive) picked evenly, at most `count` of them. */
export function evenPositions(from: number, to: number, count: number): number[] {
  const available = to - from + 1;
  if (available <= 0) return [];
  const n = Math.min(count, available);
  return Array.from({ length: n }, (_, i) => from + Math.floor((i * available) / n));
}

/**
 * ‖dL_t/dh_{t−k}‖ for each window and each k = 1 … maxLag: norms[w][k − 1]. Window w is
 * the `warmUp + maxLag + 1` tokens ending at stream[ends[w]]; its loss is the last step's,
 * against the token after it.
 */
export async function gradientNorms(
  parts: ModelParts,
  stream: Int32Array,
  ends: number[],
  maxLag: number,
  warmUp: number,
  between: () => Promise<void> = noPause,
): Promise<number[][]> {
  const steps = warmUp + maxLag + 1;
  const norms: number[][] = [];
  for (let start = 0; start < ends.length; start += GRADIENT_BATCH) {
    const chunk = ends.slice(start, start + GRADIENT_BATCH);
    const ids = new Int32Array(chunk.length * steps);
    chunk.forEach((end, w) => ids.set(stream.subarray(end - steps + 1, end + 1), w * steps));
    const targets = Int32Array.from(chunk, (end) => stream[end + 1]);
    const stacked = tf.tidy(() => {
      const layers = parts.recurrent.length;
      const zeros = Array.from({ length: layers * maxLag }, () => tf.zeros([chunk.length, parts.units]) as tf.Tensor2D);
      // The sum of the windows' losses: each window's gradient is its own loss's, as windows share nothing.
      const loss = (...deltas: tf.Tensor[]) => {
        const perturbations = Array.from({ length: layers }, (_, l) => [
          ...new Array<undefined>(warmUp),
          ...(deltas.slice(l * maxLag, (l + 1) * maxLag) as tf.Tensor2D[]),
        ]);
        const unrolled = unroll(parts, { ids, batch: chunk.length, steps }, { perturbations });
        return tf.sum(tokenCrossEntropy(unrolled.logitsAt(steps - 1), targets));
      };
      const gradients = tf.grads(loss)(zeros);
      // Step warmUp + j is k = maxLag − j steps before the loss; square norms summed over layers.
      const squares = Array.from({ length: maxLag }, (_, j) =>
        tf.addN(Array.from({ length: layers }, (_, l) => tf.sum(tf.square(gradients[l * maxLag + j]), 1))),
      );
      return tf.sqrt(tf.stack(squares.reverse(), 1)) as tf.Tensor2D;
    });
    const values = stacked.arraySync();
    stacked.dispose();
    norms.push(...values);
    await between();
  }
  return norms;
}

/**
 * Loss (nats) of stream[p] for each target position p when the model starts from the zero
 * state `context` tokens before it.
 */
export async function contextLosses(
  parts: ModelParts,
  stream: Int32Array,
  positions: number[],
  context: number,
  between: () => Promise<void> = noPause,
): Promise<Float64Array> {
  const losses = new Float64Array(positions.length);
  for (let start = 0; start < positions.length; start += CONTEXT_BATCH) {
    const chunk = positions.slice(start, start + CONTEXT_BATCH);
    const ids = new Int32Array(chunk.length * context);
    chunk.forEach((p, r) => ids.set(stream.subarray(p - context, p), r * context));
    const targets = Int32Array.from(chunk, (p) => stream[p]);
    const result = tf.tidy(() => tokenCrossEntropy(unroll(parts, { ids, batch: chunk.length, steps: context }).logitsAt(context - 1), targets));
    losses.set(result.dataSync(), start);
    result.dispose();
    await between();
  }
  return losses;
}

export async function gradientThroughTime(model: tf.LayersModel, stream: Int32Array, options: MemoryOptions = {}): Promise<GradientCurve> {
  const maxLag = options.maxLag ?? MAX_LAG;
  const warmUp = options.warmUp ?? WARM_UP;
  const first = warmUp + maxLag;
  requireTokens(stream, first + 2);
  const ends = evenPositions(first, stream.length - 2, options.windows ?? GRADIENT_WINDOWS);
  const norms = await gradientNorms(modelParts(model), stream, ends, maxLag, warmUp, options.between);
  const lags = Array.from({ length: maxLag }, (_, i) => i + 1);
  const column = (k: number) => norms.map((row) => row[k - 1]).sort((a, b) => a - b);
  return {
    lags,
    geometricMean: lags.map((k) => geometricMean(column(k))),
    p10: lags.map((k) => quantile(column(k), 0.1)),
    p90: lags.map((k) => quantile(column(k), 0.9)),
    windows: norms.length,
  };
}

export async function lossByContext(model: tf.LayersModel, stream: Int32Array, options: MemoryOptions = {}): Promise<ContextCurve> {
  const contexts = options.contexts ?? CONTEXT_LENGTHS;
  const longest = Math.max(...contexts);
  requireTokens(stream, longest + 1);
  const positions = evenPositions(longest, stream.length - 1, options.positions ?? CONTEXT_POSITIONS);
  const parts = modelParts(model);
  // One lane: every target is read after all the text before it (eval's lanes would restart at each lane's start).
  const full = await targetProbabilitiesPausing(model, stream, FULL_READ_WINDOW, 1, options.between ?? noPause);
  const fullLosses = positions.map((p) => -Math.log(full[p - 1]));
  const losses: Float64Array[] = [];
  for (const n of contexts) losses.push(await contextLosses(parts, stream, positions, n, options.between));
  return {
    contexts,
    loss: losses.map(mean),
    fullContextLoss: mean(fullLosses),
    gapStandardError: losses.map((byPosition) => standardError(Array.from(byPosition, (loss, i) => loss - fullLosses[i]))),
    positions: positions.length,
  };
}

/** What the figures average, in words, for memory.json. */
export const MEMORY_METHOD = {
  gradient:
    `‖dL_t/dh_{t−k}‖ (all layers' h, LSTM c held fixed) at ${GRADIENT_WINDOWS} held-out positions t evenly spaced, each read from the zero state ` +
    `${WARM_UP} tokens before t − ${MAX_LAG}; geometric mean over positions (the centre of a log axis), 10th and 90th percentiles.`,
  context:
    `Mean loss in nats of ${CONTEXT_POSITIONS} held-out targets evenly spaced, the model started from the zero state n tokens before each; ` +
    'full context: the same targets after reading all the held-out text before them; gapStandardError: of the paired difference from full context.',
};

/** Both curves of one model on the start of a held-out token stream. */
export async function measureMemory(model: tf.LayersModel, stream: Int32Array, options: MemoryOptions = {}): Promise<MemoryCurves> {
  const measured = stream.subarray(0, HELD_OUT_TOKENS);
  const gradient = await gradientThroughTime(model, measured, options);
  return { tokens: measured.length, gradient, context: await lossByContext(model, measured, options) };
}

function requireTokens(stream: Int32Array, needed: number): void {
  if (stream.length < needed) {
    throw new UserError(`The held-out text has ${stream.length} tokens; memory through time needs at least ${needed}.`);
  }
}

/** Norms can underflow to 0 in float32; they count as the smallest normal float32 so the logarithm stays finite. */
const SMALLEST_NORM = 1.2e-38;

function geometricMean(values: number[]): number {
  return Math.exp(mean(values.map((v) => Math.log(Math.max(v, SMALLEST_NORM)))));
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/** Standard error of the mean of `values` (sample standard deviation / √n). */
function standardError(values: number[]): number {
  const centre = mean(values);
  const variance = values.reduce((sum, v) => sum + (v - centre) ** 2, 0) / Math.max(values.length - 1, 1);
  return Math.sqrt(variance / values.length);
}

/** Quantile q of sorted values, by linear interpolation. */
function quantile(sorted: number[], q: number): number {
  const at = q * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (at - below);
}
