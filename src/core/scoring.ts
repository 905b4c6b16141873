/**
 * The language-model objective: logits for every position of a batch of windows, mean
 * sparse cross-entropy against integer targets, and accuracy counts. Shared by training,
 * validation and evaluation so the three measure the same thing (DESIGN.md §5).
 */
import * as tf from '@tensorflow/tfjs';
import { evaluationBatches, type Batch } from './dataset';
import { resolveEngine, type Engine } from './fast/engine';
import { makeNetwork } from './network';
import type { LayerState } from './fast/recurrence';
import { modelParts } from './model';

/**
 * Logits [rows × seqLen, vocab] of the model's output layer, before its softmax. Training
 * uses these with log-sum-exp, which is exact where log(softmax) would underflow.
 */
export function windowLogits(model: tf.LayersModel, inputs: tf.Tensor2D, training: boolean): tf.Tensor2D {
  const layers = model.layers;
  let hidden = inputs as tf.Tensor;
  for (const layer of layers.slice(0, -1)) hidden = layer.apply(hidden, { training }) as tf.Tensor;
  const [kernel, bias] = layers[layers.length - 1].getWeights();
  const units = hidden.shape[hidden.shape.length - 1];
  return tf.add(tf.matMul(tf.reshape(hidden, [-1, units]), kernel as tf.Tensor2D), bias);
}

/** Mean cross-entropy (nats per target) of logits [n, vocab] against integer targets [n]. */
export function meanCrossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  return tf.mean(tokenCrossEntropy(logits, targets));
}

/** Cross-entropy per target: log Σ exp(logits) − logit of the target. */
export function tokenCrossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Tensor1D {
  const vocab = logits.shape[1];
  // Picking the target logits from the flattened matrix avoids a one-hot [n, vocab] tensor.
  const flatIndex = new Int32Array(targets.length);
  for (let i = 0; i < targets.length; i++) flatIndex[i] = i * vocab + targets[i];
  const picked = tf.gather(tf.reshape(logits, [-1]), tf.tensor1d(flatIndex, 'int32'));
  return tf.sub(tf.logSumExp(logits, 1), picked);
}

/**
 * How many rows of logits have the target as their top-1 (and, if asked, in their top 5)
 * among the real words: <unk> (id 0) is left out of the ranking and never counts as a hit,
 * as a suggestion can never show it.
 */
export function countCorrect(logits: tf.Tensor2D, targets: Int32Array, withTop5 = false): { top1: number; top5: number } {
  const counts = tf.tidy(() => {
    const targetTensor = tf.tensor1d(targets, 'int32');
    const [rows, vocab] = logits.shape;
    const unknownColumn = tf.fill([rows, 1], -Infinity);
    logits = vocab > 1 ? tf.concat2d([unknownColumn as tf.Tensor2D, tf.slice(logits, [0, 1], [rows, vocab - 1])], 1) : logits;
    const hits = (predicted: tf.Tensor, target: tf.Tensor) => tf.sum(tf.cast(tf.equal(predicted, target), 'int32'));
    const top1 = hits(tf.argMax(logits, 1), targetTensor);
    if (!withTop5) return [top1];
    const { indices } = tf.topk(logits, Math.min(5, Math.max(1, logits.shape[1] - 1)));
    return [top1, hits(indices, tf.expandDims(targetTensor, 1))];
  });
  // Read outside tidy: reading inside it would have tidy scan the returned arrays.
  const [top1, top5 = 0] = counts.map((t) => t.dataSync()[0]);
  tf.dispose(counts);
  return { top1, top5 };
}

export interface StreamScore {
  tokens: number;
  /** Mean cross-entropy in nats per target token. */
  loss: number;
  accuracy: number;
  top5Accuracy: number;
}

/** Scores every target of the batches in inference mode (no dropout). */
export async function scoreBatches(model: tf.LayersModel, batches: Batch[], withTop5 = false, engine: Engine = 'fast'): Promise<StreamScore> {
  if (resolveEngine(engine) === 'fast') return scoreFast(model, batches, withTop5);
  let tokens = 0;
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  for (const batch of batches) {
    const logits = tf.tidy(() => windowLogits(model, tf.tensor2d(batch.inputs, [batch.rows, batch.seqLen], 'int32'), false));
    const lossTensor = tf.tidy(() => tf.sum(tokenCrossEntropy(logits, batch.targets)));
    lossSum += (await lossTensor.data())[0];
    const correct = countCorrect(logits, batch.targets, withTop5);
    tf.dispose([logits, lossTensor]);
    top1 += correct.top1;
    top5 += correct.top5;
    tokens += batch.targets.length;
  }
  return streamScore(tokens, lossSum, top1, top5);
}

/**
 * The same figures from the fast path's forward pass and fused loss kernel; a batch that
 * continues the one before starts from the state that one ended in.
 */
function scoreFast(model: tf.LayersModel, batches: Batch[], withTop5: boolean): StreamScore {
  const network = makeNetwork(modelParts(model));
  let tokens = 0;
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  let state: LayerState[] | undefined;
  for (const batch of batches) {
    const stats = network.score(batch, withTop5, batch.continues ? state : undefined);
    tf.dispose(state?.flat());
    state = stats.state;
    lossSum += stats.lossSum;
    top1 += stats.top1;
    top5 += stats.top5;
    tokens += batch.targets.length;
  }
  tf.dispose(state?.flat());
  return streamScore(tokens, lossSum, top1, top5);
}

/**
 * The model's probability of every target of `stream[1..]`, in stream order, read in lanes
 * with the state carried as validation reads (fast path).
 */
export function targetProbabilities(model: tf.LayersModel, stream: Int32Array, seqLen: number, batch: number): Float64Array {
  const out = new Float64Array(Math.max(stream.length - 1, 0));
  for (const _ of probabilityBatches(model, stream, seqLen, batch, out));
  return out;
}

/**
 * The same, with the top layer's output after every input, [targets × units] in stream
 * order (row t read stream[t]): what the neural cache remembers (neuralCache.ts).
 */
export function targetProbabilitiesAndStates(
  model: tf.LayersModel,
  stream: Int32Array,
  seqLen: number,
  batch: number,
): { probabilities: Float64Array; hidden: Float32Array; units: number } {
  const probabilities = new Float64Array(Math.max(stream.length - 1, 0));
  const units = modelParts(model).units;
  const hidden = new Float32Array(probabilities.length * units);
  for (const _ of probabilityBatches(model, stream, seqLen, batch, probabilities, hidden));
  return { probabilities, hidden, units };
}

/**
 * The same, awaiting `between` after every batch: an engine that serves suggestions on the
 * same thread answers them in the pauses (a long held-out text takes a second or more).
 */
export async function targetProbabilitiesPausing(
  model: tf.LayersModel,
  stream: Int32Array,
  seqLen: number,
  batch: number,
  between: () => Promise<void>,
): Promise<Float64Array> {
  const out = new Float64Array(Math.max(stream.length - 1, 0));
  for (const _ of probabilityBatches(model, stream, seqLen, batch, out)) await between();
  return out;
}

/** Fills `out` (and `hidden`, if given) one batch of lanes at a time, yielding after each. */
function* probabilityBatches(
  model: tf.LayersModel,
  stream: Int32Array,
  seqLen: number,
  batch: number,
  out: Float64Array,
  hidden?: Float32Array,
): Generator<void> {
  const network = makeNetwork(modelParts(model));
  const units = network.parts.units;
  let state: LayerState[] | undefined;
  try {
    for (const b of evaluationBatches(stream, seqLen, batch)) {
      const result = network.targetLogProbabilities(b, b.continues ? state : undefined);
      tf.dispose(state?.flat());
      state = result.state;
      for (let t = 0; t < b.seqLen; t++) {
        for (let r = 0; r < b.rows; r++) {
          const row = t * b.rows + r;
          const position = b.starts![r] + t;
          out[position] = Math.exp(result.logProbabilities[row]);
          hidden?.set(result.hidden.subarray(row * units, (row + 1) * units), position * units);
        }
      }
      yield;
    }
  } finally {
    tf.dispose(state?.flat());
  }
}

function streamScore(tokens: number, lossSum: number, top1: number, top5: number): StreamScore {
  if (tokens === 0) return { tokens, loss: NaN, accuracy: NaN, top5Accuracy: NaN };
  return { tokens, loss: lossSum / tokens, accuracy: top1 / tokens, top5Accuracy: top5 / tokens };
}
