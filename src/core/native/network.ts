/**
 * The whole language model on native TensorFlow (the `tensorflow` backend): the fast
 * path's network (fast/network.ts) composed from TensorFlow's own ops instead of SeqLab's
 * in-place kernels, which on this backend would copy every tensor in and out.
 *
 * Same model, same variables, same maths: Embedding (with its Dropout) → recurrent layers
 * (each with its Dropout) → Dense, every position predicting the next token, the backward
 * pass written out (cells.ts), the loss and its gradient from TensorFlow's fused
 * SparseSoftmaxCrossEntropyWithLogits, over the whole vocabulary or, on a sampled
 * softmax, over the step's candidate words. The big matmuls run on TensorFlow's threads.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../dataset';
import { readTargetLogProbabilities, timeMajorTensors, variableName } from '../networkInputs';
import { inputMaskSeed, layerMaskSeed, weightDropSeed } from '../dropoutSeeds';
import { dropoutMask, dropRecurrentWeights, type DroppedWeights } from '../weightDrop';
import type { ModelParts } from '../model';
import type { LanguageNetwork, LayerState, ScoredBatch, TargetLogProbabilities, TrainingStep } from '../network';
import { UNKNOWN_ID } from '../tokenizer';
import { candidateTargets, figureRows, type Candidates } from '../fast/candidates';
import { toTimeMajor } from '../fast/layout';
import { makeNativeCell, type NativeCell } from './cells';
import { matMul, runOp } from './ops';

export class NativeNetwork implements LanguageNetwork {
  constructor(
    readonly parts: ModelParts,
    readonly tiedWeights = false,
    /** Weight drop on the recurrent kernels while training (weightDrop.ts). */
    readonly weightDrop = 0,
  ) {}

  score(batch: Batch, withTop5: boolean, initial?: LayerState[]): ScoredBatch {
    const { lossSum, ranked, state } = tf.tidy(() => {
      const { ids, targets } = timeMajorTensors(batch);
      const run = this.forward(ids, batch, initial, undefined);
      const logits = this.output(run.top).logits;
      const [losses] = crossEntropy(logits, targets);
      return { lossSum: tf.sum(losses), ranked: topIndices(logits, withTop5 ? 5 : 1), state: run.state };
    });
    return { lossSum: readScalar(lossSum), ...accuracyCounts(readRanked(ranked), batch), state };
  }

  targetLogProbabilities(batch: Batch, initial?: LayerState[]): TargetLogProbabilities {
    const { values, top, state } = tf.tidy(() => {
      const { ids, targets } = timeMajorTensors(batch);
      const run = this.forward(ids, batch, initial, undefined);
      return { values: tf.neg(crossEntropy(this.output(run.top).logits, targets)[0]), top: run.top, state: run.state };
    });
    return readTargetLogProbabilities(values, top, state);
  }

  inferenceLogits(batch: Batch, initial?: LayerState[]): { logits: tf.Tensor2D; state: LayerState[] } {
    return tf.tidy(() => {
      const run = this.forward(timeMajorTensors(batch).ids, batch, initial, undefined);
      return { logits: this.output(run.top).logits, state: run.state };
    });
  }

  trainingStep(batch: Batch, seed: number, initial?: LayerState[], candidates?: Candidates): TrainingStep {
    const { lossSum, top1, gradients, state } = tf.tidy(() => {
      const { parts } = this;
      const { ids, targets } = timeMajorTensors(batch);
      const run = this.forward(ids, batch, initial, seed);
      const output = candidates ? this.sampledOutput(run.top, toTimeMajor(batch.targets, batch.rows, batch.seqLen), candidates) : this.fullOutput(run.top, targets);
      const grads: tf.NamedTensorMap = {
        [variableName(parts.outputKernel)]: output.kernelGradient,
        [variableName(parts.outputBias)]: output.biasGradient,
      };
      let dOut = output.dInput;
      for (let l = run.layers.length - 1; l >= 0; l--) {
        const layer = run.layers[l];
        const weights = parts.recurrent[l];
        const dH = layer.mask ? (tf.mul(dOut, layer.mask) as tf.Tensor2D) : dOut;
        const layerGradients = layer.cell.backward(dH, layer.saved);
        grads[variableName(weights.kernel)] = layerGradients.kernel;
        grads[variableName(weights.recurrentKernel)] = layer.dropped ? tf.mul(layerGradients.recurrentKernel, layer.dropped.mask) : layerGradients.recurrentKernel;
        grads[variableName(weights.bias)] = layerGradients.bias;
        dOut = layerGradients.input;
      }
      if (run.inputMask) dOut = tf.mul(dOut, run.inputMask) as tf.Tensor2D;
      let embeddingGradient: tf.Tensor = tf.unsortedSegmentSum(dOut, ids, parts.vocabSize);
      if (this.tiedWeights) {
        // One matrix serves as both (see fast/network.ts): the sum of both uses' gradients.
        embeddingGradient = tf.add(embeddingGradient, tf.transpose(output.kernelGradient));
        delete grads[variableName(parts.outputKernel)];
      }
      grads[variableName(parts.embeddings)] = embeddingGradient;
      return { lossSum: output.lossSum, top1: output.top1, gradients: grads, state: run.state };
    });
    return { lossSum: readScalar(lossSum), top1: Math.round(readScalar(top1)), top5: 0, gradients, state };
  }

  /**
   * The output layer over the whole vocabulary: the loss and top-1 figures, and the
   * gradients of the mean loss for the output kernel, its bias and the layer's input.
   */
  private fullOutput(top: tf.Tensor2D, targets: tf.Tensor1D): OutputGradients {
    const { logits, inputsWithOnes } = this.output(top);
    const [losses, dLogitsOfSum] = crossEntropy(logits, targets);
    // The loss is the mean over the rows and the op gives the gradient of their sum: the
    // 1/N goes on the two products, which are far smaller than the [N, V] gradient.
    const scale = 1 / targets.shape[0];
    // [h ones]ᵀ·dL/dlogits: the output kernel's gradient with the bias' as its last row.
    const product = tf.mul(matMul(inputsWithOnes, dLogitsOfSum, true, false), scale) as tf.Tensor2D;
    const [kernelGradient, biasGradient] = tf.split(product, [this.parts.units, 1], 0);
    return {
      lossSum: tf.sum(losses),
      top1: top1Hits(logits, targets),
      kernelGradient: kernelGradient as tf.Tensor2D,
      biasGradient: tf.reshape(biasGradient, [-1]),
      dInput: tf.mul(matMul(dLogitsOfSum, this.parts.outputKernel, false, true), scale) as tf.Tensor2D,
    };
  }

  /**
   * The output layer over the candidates only (sampled softmax, fast/candidates.ts): the
   * same products with C columns instead of V, the gradients added into the candidates'
   * columns. The loss it trains on is not the model's, so the figures are the full
   * softmax's on the figure rows, scaled to stand for all rows.
   */
  private sampledOutput(top: tf.Tensor2D, targetIds: Int32Array, candidates: Candidates): OutputGradients {
    const { outputKernel, outputBias, units, vocabSize } = this.parts;
    const ids = tf.tensor1d(candidates.ids, 'int32');
    const labels = tf.tensor1d(candidateTargets(targetIds, candidates, vocabSize), 'int32');
    // The output kernel holds the embeddings transposed when they are tied, so its columns serve either way.
    const columns = tf.gather(outputKernel, ids, 1) as tf.Tensor2D;
    const biases = tf.reshape(tf.add(tf.gather(outputBias, ids), tf.tensor1d(candidates.corrections)), [1, -1]);
    const inputsWithOnes = withOnes(top);
    const logits = matMul(inputsWithOnes, tf.concat([columns, biases], 0));
    const [, dLogitsOfSum] = crossEntropy(logits, labels);
    const scale = 1 / targetIds.length;
    // dL/dlogitsᵀ·[h ones], one row per candidate, added into the rows of its word.
    const candidateRows = tf.mul(matMul(dLogitsOfSum, inputsWithOnes, true, false), scale) as tf.Tensor2D;
    const wordRows = tf.unsortedSegmentSum(candidateRows, ids, vocabSize) as tf.Tensor2D;
    const [kernelRows, biasColumn] = tf.split(wordRows, [units, 1], 1);
    const picked = figureRows(targetIds.length);
    const pickedTargets = tf.tensor1d(picked.map((row) => targetIds[row]), 'int32');
    const pickedLogits = this.output(tf.gather(top, tf.tensor1d(picked, 'int32')) as tf.Tensor2D).logits;
    const standsFor = targetIds.length / picked.length;
    return {
      lossSum: tf.mul(tf.sum(crossEntropy(pickedLogits, pickedTargets)[0]), standsFor),
      top1: tf.mul(top1Hits(pickedLogits, pickedTargets), standsFor),
      kernelGradient: tf.transpose(kernelRows) as tf.Tensor2D,
      biasGradient: tf.reshape(biasColumn, [-1]),
      dInput: tf.mul(matMul(dLogitsOfSum, columns, false, true), scale) as tf.Tensor2D,
    };
  }

  tieOutputKernel(): void {
    if (!this.tiedWeights) return;
    tf.tidy(() => (this.parts.outputKernel as tf.Variable).assign(tf.transpose(this.parts.embeddings)));
  }

  /**
   * Embedding → every recurrent layer from `initial` (zero state when not given). With a
   * `seed` it runs for training: dropout masks drawn from it, and each layer keeps what its
   * backward pass needs.
   */
  private forward(ids: tf.Tensor1D, batch: Batch, initial: LayerState[] | undefined, seed: number | undefined) {
    const { parts } = this;
    const training = seed !== undefined;
    let x = tf.gather(parts.embeddings, ids) as tf.Tensor2D;
    const inputMask = training && parts.inputDropout > 0 ? dropoutMask(x.shape, parts.inputDropout, inputMaskSeed(seed)) : undefined;
    if (inputMask) x = tf.mul(x, inputMask) as tf.Tensor2D;
    const layers: { cell: NativeCell; saved: unknown; mask?: tf.Tensor2D; dropped?: DroppedWeights }[] = [];
    const state: LayerState[] = [];
    for (let l = 0; l < parts.recurrent.length; l++) {
      const dropped = training ? dropRecurrentWeights(parts.recurrent[l], this.weightDrop, weightDropSeed(seed, l)) : undefined;
      const cell = makeNativeCell(parts.cell, dropped?.weights ?? parts.recurrent[l], parts.units);
      const run = cell.forward(x, batch.seqLen, initial?.[l] ?? cell.initialState(batch.rows), training);
      state.push(run.state);
      const mask = training && parts.dropout[l] > 0 ? dropoutMask(run.outputs.shape, parts.dropout[l], layerMaskSeed(seed, l)) : undefined;
      layers.push({ cell, saved: run.saved, mask, dropped });
      x = mask ? (tf.mul(run.outputs, mask) as tf.Tensor2D) : run.outputs;
    }
    return { top: x, state, layers, inputMask };
  }

  /**
   * The logits [N, V], from the top layer's output with a column of ones and the output
   * kernel with the bias as its last row: the bias costs no pass over [N, V], and the
   * backward pass gets both gradients from one matmul.
   */
  private output(top: tf.Tensor2D): { logits: tf.Tensor2D; inputsWithOnes: tf.Tensor2D } {
    const { outputKernel, outputBias, vocabSize } = this.parts;
    const inputsWithOnes = withOnes(top);
    const kernelAndBias = tf.concat([outputKernel, tf.reshape(outputBias, [1, vocabSize])], 0) as tf.Tensor2D;
    return { logits: matMul(inputsWithOnes, kernelAndBias), inputsWithOnes };
  }
}

/** What the output layer of a training step gives the rest of the backward pass. */
interface OutputGradients {
  /** The loss summed over the rows, and how many rows had a real word ranked first. */
  lossSum: tf.Scalar;
  top1: tf.Scalar;
  /** Gradients of the mean loss: the output kernel's [units, V], its bias' and the layer input's [N, units]. */
  kernelGradient: tf.Tensor2D;
  biasGradient: tf.Tensor1D;
  dInput: tf.Tensor2D;
}

/** [x ones]: with the bias as the weights' last row, one matmul gives the logits and one the gradients of both. */
function withOnes(x: tf.Tensor2D): tf.Tensor2D {
  return tf.concat([x, tf.ones([x.shape[0], 1])], 1) as tf.Tensor2D;
}

/** Rows whose target is a real word and ranked first (<unk> is never a hit, as accuracyCounts counts). */
function top1Hits(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const first = tf.reshape(topIndices(logits, 1), [-1]);
  return tf.sum(tf.cast(tf.logicalAnd(tf.equal(first, targets), tf.notEqual(targets, UNKNOWN_ID)), 'float32'));
}

/** Each row's cross-entropy [N] and, from the same op, the gradient of their sum w.r.t. the logits [N, V]. */
function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): [tf.Tensor1D, tf.Tensor2D] {
  const [losses, gradient] = runOp('SparseSoftmaxCrossEntropyWithLogits', [logits, targets], { T: { type: 'float32' }, Tlabels: { type: 'int32' } }, 2);
  return [losses as tf.Tensor1D, gradient as tf.Tensor2D];
}

/**
 * The ids of each row's `words` most likely real words, most likely first, [N, words]:
 * ranked among the columns after <unk> (id 0), which a suggestion never shows. ArgMax for
 * one word, as TopK costs seven times more.
 */
function topIndices(logits: tf.Tensor2D, words: number): tf.Tensor2D {
  const [rows, vocab] = logits.shape;
  const realWords = tf.slice(logits, [0, UNKNOWN_ID + 1], [rows, vocab - 1]);
  const ranked = words === 1 ? tf.reshape(tf.argMax(realWords, 1), [rows, 1]) : runOp('TopKV2', [realWords, tf.scalar(words, 'int32')], { sorted: true, T: { type: 'float32' } }, 2)[1];
  return tf.add(ranked, UNKNOWN_ID + 1) as tf.Tensor2D;
}

function readRanked(ranked: tf.Tensor2D): { ids: Int32Array; width: number } {
  const ids = ranked.dataSync() as Int32Array;
  const width = ranked.shape[1];
  ranked.dispose();
  return { ids, width };
}

function readScalar(value: tf.Tensor): number {
  const [number] = value.dataSync();
  value.dispose();
  return number;
}

/**
 * Rows whose target is a real word ranked first, and among the first five (when ranked that
 * far): <unk> is left out of the ranking and never a hit, as the fast path's loss kernel
 * counts (fast/loss.ts). Ranked ids are time-major like the network's rows.
 */
function accuracyCounts({ ids, width }: { ids: Int32Array; width: number }, batch: Batch): { top1: number; top5: number } {
  let top1 = 0;
  let top5 = 0;
  for (let r = 0; r < batch.rows; r++) {
    for (let t = 0; t < batch.seqLen; t++) {
      const target = batch.targets[r * batch.seqLen + t];
      if (target === UNKNOWN_ID) continue;
      const row = (t * batch.rows + r) * width;
      for (let rank = 0; rank < width; rank++) {
        if (ids[row + rank] !== target) continue;
        if (rank === 0) top1++;
        if (width >= 5) top5++;
        break;
      }
    }
  }
  return { top1, top5 };
}
