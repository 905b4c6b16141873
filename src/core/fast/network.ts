/**
 * The whole language model on the fast path: Embedding → recurrent layers (with their
 * Dropout when training) → Dense, forward and back, computed from the model's own
 * variables (ModelParts), so the weights stay those of the standard TF.js layers.
 *
 * The backward pass is written out by hand rather than recorded on the gradient tape:
 * the tape would see ~10 ops per timestep per layer and replay their generic gradients,
 * with transposed matmuls that wasm runs 13× slower than plain ones. Written out, every
 * weight gradient of a layer is one plain matmul over all N = T·B rows.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../dataset';
import { readTargetLogProbabilities, timeMajorTensors, variableName } from '../networkInputs';
import { inputMaskSeed, layerMaskSeed, weightDropSeed } from '../dropoutSeeds';
import { dropRecurrentWeights } from '../weightDrop';
import type { ModelParts } from '../model';
import { makeRecurrence } from './cells';
import { batchLanes, crop, dropout, gatherRows, stackSteps, stackTrainingSteps, toTimeMajor, transpose } from './layout';
import type { LanguageNetwork, ScoredBatch, TargetLogProbabilities, TrainingStep } from '../network';
import { candidateTargets, figureRows, type Candidates } from './candidates';
import { lossGradient, readStats, scoreLogits } from './loss';
import type { TargetShift } from '../distillation';
import type { LayerState, Recurrence } from './recurrence';

/** What the backward pass needs from one layer's forward pass. */
interface LayerTape {
  recurrence: Recurrence;
  input: tf.Tensor2D;
  saved: unknown;
  mask?: tf.Tensor2D;
  gradientInputs: tf.Tensor2D;
  /** The recurrent kernel's weight-drop mask, when the batch dropped some of it. */
  weightMask?: tf.Tensor2D;
}

export class FastNetwork implements LanguageNetwork {
  /**
   * With `tiedWeights` the output kernel is the embedding matrix transposed (Press & Wolf
   * 2017): the gradient of both uses goes to the embeddings, and the caller copies them
   * into the output kernel after each update. Needs embedding size = units.
   */
  constructor(
    readonly parts: ModelParts,
    readonly tiedWeights = false,
    /** Weight drop on the recurrent kernels while training (weightDrop.ts). */
    readonly weightDrop = 0,
  ) {}

  score(batch: Batch, withTop5: boolean, initial?: LayerState[]): ScoredBatch {
    const { stats, state } = tf.tidy(() => {
      const { ids, targets } = timeMajorTensors(batch);
      const run = this.inferenceRun(ids, batch.rows, initial);
      return { stats: scoreLogits(this.logitsOf(run.top), targets, withTop5), state: run.state };
    });
    const result = readStats(stats);
    stats.dispose();
    return { ...result, state };
  }

  inferenceLogits(batch: Batch, initial?: LayerState[]): { logits: tf.Tensor2D; state: LayerState[] } {
    return tf.tidy(() => {
      const run = this.inferenceRun(timeMajorTensors(batch).ids, batch.rows, initial);
      return { logits: this.logitsOf(run.top), state: run.state };
    });
  }

  targetLogProbabilities(batch: Batch, initial?: LayerState[]): TargetLogProbabilities {
    const { values, top, state } = tf.tidy(() => {
      const { ids } = timeMajorTensors(batch);
      const run = this.inferenceRun(ids, batch.rows, initial);
      const logits = this.logitsOf(run.top);
      const targets = toTimeMajor(batch.targets, batch.rows, batch.seqLen);
      const flat = tf.tensor1d(targets.map((target, row) => row * logits.shape[1] + target), 'int32');
      return { values: tf.sub(tf.gather(tf.reshape(logits, [-1]), flat), tf.logSumExp(logits, 1)), top: run.top, state: run.state };
    });
    return readTargetLogProbabilities(values, top, state);
  }

  private inferenceRun(ids: tf.Tensor1D, rows: number, initial?: LayerState[]): { top: tf.Tensor2D; state: LayerState[] } {
    let x = gatherRows(this.parts.embeddings, ids);
    const state: LayerState[] = [];
    for (let l = 0; l < this.parts.recurrent.length; l++) {
      const recurrence = this.recurrence(l);
      const run = recurrence.forward(this.project(l, x), rows, initial?.[l] ?? recurrence.initialState(rows), false);
      state.push(run.state);
      x = stackSteps(run.outputs);
    }
    return { top: x, state };
  }

  trainingStep(batch: Batch, seed: number, initial?: LayerState[], candidates?: Candidates, shift?: TargetShift): TrainingStep {
    const { stats, gradients, state } = tf.tidy(() => {
      const { parts } = this;
      const { ids, targets } = timeMajorTensors(batch);
      const lanes = batchLanes(batch);
      const layers = parts.recurrent.length;
      const tapes: LayerTape[] = [];
      const finalState: LayerState[] = [];
      let x = gatherRows(parts.embeddings, ids);
      const inputMask = parts.inputDropout > 0 ? dropout(x, parts.inputDropout, inputMaskSeed(seed), lanes) : undefined;
      if (inputMask) x = inputMask.output;
      let topWithOnes: tf.Tensor2D | undefined;
      for (let l = 0; l < layers; l++) {
        const dropped = dropRecurrentWeights(parts.recurrent[l], this.weightDrop, weightDropSeed(seed, l));
        const recurrence = this.recurrence(l, dropped?.weights);
        const start = initial?.[l] ?? recurrence.initialState(batch.rows);
        const run = recurrence.forward(this.project(l, x), batch.rows, start, true);
        finalState.push(run.state);
        const stacked = stackTrainingSteps(x, run.outputs, start[0], {
          rate: parts.dropout[l],
          seed: layerMaskSeed(seed, l),
          lanes,
          withOnes: l === layers - 1,
        });
        tapes.push({ recurrence, input: x, saved: run.saved, mask: stacked.mask, gradientInputs: stacked.gradientInputs!, weightMask: dropped?.mask });
        x = stacked.output;
        topWithOnes = stacked.outputWithOnes;
      }
      const output = candidates
        ? this.sampledOutput(x, topWithOnes!, toTimeMajor(batch.targets, batch.rows, batch.seqLen), candidates, shift)
        : this.fullOutput(x, topWithOnes!, targets, shift);
      const { stats, outputRows } = output;
      const grads: tf.NamedTensorMap = { [variableName(parts.outputBias)]: output.biasGradient };
      // Tied, the output kernel's gradient goes to the embeddings (below).
      if (!this.tiedWeights) grads[variableName(parts.outputKernel)] = transpose(outputRows);
      let dOut = output.dInput;
      for (let l = layers - 1; l >= 0; l--) {
        const tape = tapes[l];
        const weights = parts.recurrent[l];
        const dH: tf.Tensor2D = tape.mask ? tf.mul(dOut, tape.mask) : dOut;
        const dZ = tf.concat(tape.recurrence.backward(dH, tape.saved, batch.rows));
        // [input; h₋₁…; ones]ᵀ·dZ: the kernel's, the recurrent kernel's and the bias's gradients.
        const product: tf.Tensor2D = tf.matMul(tape.gradientInputs, dZ);
        const inputSize = tape.input.shape[1];
        grads[variableName(weights.kernel)] = crop(product, 0, 0, inputSize, product.shape[1]);
        const recurrentGradient = tape.recurrence.recurrentGradient(product, inputSize, tape.saved);
        grads[variableName(weights.recurrentKernel)] = tape.weightMask ? tf.mul(recurrentGradient, tape.weightMask) : recurrentGradient;
        grads[variableName(weights.bias)] = lastRow(product);
        dOut = tf.matMul(dZ, transpose(weights.kernel));
      }
      if (inputMask) dOut = tf.mul(dOut, inputMask.mask);
      let embeddingGradient: tf.Tensor2D = tf.unsortedSegmentSum(dOut, ids, parts.vocabSize);
      if (this.tiedWeights) {
        // One matrix serves as both: its gradient is the sum of both uses. The output
        // kernel [units, V] is its transpose, so its gradient is the product's block as it is.
        embeddingGradient = tf.add(embeddingGradient, outputRows);
      }
      grads[variableName(parts.embeddings)] = embeddingGradient;
      return { stats, gradients: grads, state: finalState };
    });
    const result = readStats(stats);
    stats.dispose();
    return { ...result, gradients, state };
  }

  /**
   * The output layer over the whole vocabulary: the loss figures, dL/dinput, and the output
   * kernel's gradient transposed [V, units] (the embeddings' layout) and the bias's.
   */
  private fullOutput(x: tf.Tensor2D, xWithOnes: tf.Tensor2D, targets: tf.Tensor1D, shift?: TargetShift): OutputGradients {
    const { parts } = this;
    const few = this.fewRows(x);
    const { stats, dLogits, dLogitsTransposed } = lossGradient(this.logitsOf(x), targets, shift);
    // dL/dlogitsᵀ·[x ones] is the output kernel's gradient transposed, and the bias's in the last column.
    const product: tf.Tensor2D = tf.matMul(dLogitsTransposed, xWithOnes);
    return {
      stats,
      outputRows: crop(product, 0, 0, parts.vocabSize, parts.units),
      biasGradient: tf.reshape(crop(product, 0, parts.units, parts.vocabSize, 1), [-1]),
      // Tied, the output kernel's transpose is the embedding matrix itself; with few rows,
      // (W·dLᵀ)ᵀ keeps the big matrix on the left, where it is not repacked (logitsOfFewRows).
      dInput: few
        ? transpose(tf.matMul(parts.outputKernel, dLogitsTransposed))
        : tf.matMul(dLogits, this.tiedWeights ? parts.embeddings : transpose(parts.outputKernel)),
    };
  }

  /**
   * The output layer over the candidates only (sampled softmax, candidates.ts): the same
   * products with C columns instead of V. The loss it trains on is not the model's, so the
   * figures it reports are the full softmax's, on some of the rows (figureRows).
   */
  private sampledOutput(x: tf.Tensor2D, xWithOnes: tf.Tensor2D, targetIds: Int32Array, candidates: Candidates, shift?: TargetShift): OutputGradients {
    const { parts } = this;
    const ids = tf.tensor1d(candidates.ids, 'int32');
    const labels = tf.tensor1d(candidateTargets(targetIds, candidates, parts.vocabSize), 'int32');
    // The kernel's columns for the candidates, as rows [C, units]: with tied weights they are the embeddings'.
    const rows = gatherRows(this.tiedWeights ? parts.embeddings : transpose(parts.outputKernel), ids);
    const bias = tf.add(tf.gather(parts.outputBias, ids), tf.tensor1d(candidates.corrections));
    const logits = tf.fused.matMul({ a: x, b: transpose(rows), bias }) as tf.Tensor2D;
    const { dLogits, dLogitsTransposed } = lossGradient(logits, labels, shift);
    const product: tf.Tensor2D = tf.matMul(dLogitsTransposed, xWithOnes);
    const count = candidates.ids.length;
    return {
      stats: this.figuresOnSomeRows(x, targetIds),
      outputRows: tf.unsortedSegmentSum(crop(product, 0, 0, count, parts.units), ids, parts.vocabSize),
      biasGradient: tf.unsortedSegmentSum(tf.reshape(crop(product, 0, parts.units, count, 1), [-1]), ids, parts.vocabSize),
      dInput: tf.matMul(dLogits, rows),
    };
  }

  /** Loss and top-1 of the full softmax on the figure rows (candidates.ts), scaled to stand for all rows. */
  private figuresOnSomeRows(x: tf.Tensor2D, targets: Int32Array): tf.Tensor1D {
    const picked = figureRows(targets.length);
    const sampledRows = gatherRows(x, tf.tensor1d(picked, 'int32'));
    const stats = scoreLogits(this.logitsOfFewRows(sampledRows), tf.tensor1d(picked.map((row) => targets[row]), 'int32'), false);
    return tf.mul(stats, targets.length / picked.length) as tf.Tensor1D;
  }

  tieOutputKernel(): void {
    if (!this.tiedWeights) return;
    tf.tidy(() => (this.parts.outputKernel as tf.Variable).assign(transpose(this.parts.embeddings)));
  }

  /**
   * A layer's recurrence, made per batch: the forms of the weights it prepares (splits,
   * transposes) change with every update, and a training batch may drop some of them.
   */
  private recurrence(layer: number, weights = this.parts.recurrent[layer]): Recurrence {
    return makeRecurrence(this.parts.cell, weights, this.parts.units);
  }

  /** `x·W + b` for every row at once. */
  project(layer: number, x: tf.Tensor2D): tf.Tensor2D {
    const { kernel, bias } = this.parts.recurrent[layer];
    return tf.fused.matMul({ a: x, b: kernel, bias }) as tf.Tensor2D;
  }

  /**
   * The logits of a few rows in a training step. With tied weights, computed as (E·xᵀ)ᵀ + b:
   * the wasm backend repacks a matmul's right-hand operand each time it is a new tensor,
   * and the output kernel is new after every update; at 4,720 words and 32 rows packing it
   * took longer than the product (8.3 ms against 4.4 this way). With many rows the
   * product's own speed decides, and the plain form is faster.
   */
  private logitsOfFewRows(x: tf.Tensor2D): tf.Tensor2D {
    if (!this.tiedWeights) return this.logits(x);
    return tf.add(transpose(tf.matMul(this.parts.embeddings, transpose(x))), this.parts.outputBias);
  }

  /** Rows few enough, and weights tied, for the products with the output kernel to keep it on the left. */
  private fewRows(x: tf.Tensor2D): boolean {
    return this.tiedWeights && x.shape[0] <= FEW_ROWS;
  }

  /** The logits of `x` in whichever form is faster for its rows (logitsOfFewRows). */
  private logitsOf(x: tf.Tensor2D): tf.Tensor2D {
    return this.fewRows(x) ? this.logitsOfFewRows(x) : this.logits(x);
  }

  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.fused.matMul({ a: x, b: this.parts.outputKernel, bias: this.parts.outputBias }) as tf.Tensor2D;
  }
}

/**
 * Up to this many rows the products with the output kernel keep it on the left: 32 rows
 * took 3.5–5.9 ms so against 7.2–7.6 ms with the kernel repacked, 256 rows 30 ms against 25.
 */
const FEW_ROWS = 64;

interface OutputGradients {
  stats: tf.Tensor1D;
  /** The output kernel's gradient transposed [V, units]. */
  outputRows: tf.Tensor2D;
  biasGradient: tf.Tensor1D;
  /** dL/d(the output layer's input) [N, units]. */
  dInput: tf.Tensor2D;
}

function lastRow(matrix: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(crop(matrix, matrix.shape[0] - 1, 0, 1, matrix.shape[1]), [-1]);
}
