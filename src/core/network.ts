/**
 * The language model as the training loop, validation and scoring see it: forward and
 * backward over a batch of lanes, from the model's own variables. Two implementations
 * compute the same function: SeqLab's in-place kernels on wasm and cpu (fast/network.ts)
 * and TensorFlow's own ops on the native backend (native/network.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Batch } from './dataset';
import type { Candidates } from './fast/candidates';
import type { TargetShift } from './distillation';
import type { LossStats } from './fast/loss';
import { FastNetwork } from './fast/network';
import type { ModelParts } from './model';
import { NativeNetwork } from './native/network';
import { nativeBackendActive } from './native/ops';

import type { LayerState } from './fast/recurrence';

export type { LayerState };

export interface TrainingStep extends LossStats {
  /** Gradient of the mean loss for every trainable variable, by variable name. */
  gradients: tf.NamedTensorMap;
  /** Every layer's recurrent state after the batch, for a batch that continues it. Owned by the caller. */
  state: LayerState[];
}

/** What targetLogProbabilities returns; the state belongs to the caller. */
export interface TargetLogProbabilities {
  logProbabilities: Float32Array;
  /** The top layer's output at every position [rows·seqLen × units], time-major as the log-probabilities. */
  hidden: Float32Array;
  state: LayerState[];
}

/** Figures of a scored batch and the state it ended in (owned by the caller). */
export interface ScoredBatch extends LossStats {
  state: LayerState[];
}

export interface LanguageNetwork {
  readonly parts: ModelParts;
  /** The output kernel is the embedding matrix transposed (Press & Wolf 2017). */
  readonly tiedWeights: boolean;
  /**
   * Loss and accuracy figures of a batch in inference mode (no dropout), starting from
   * `initial` (every layer's state; zero when not given).
   */
  score(batch: Batch, withTop5: boolean, initial?: LayerState[]): ScoredBatch;
  /**
   * Log-probability of every target of the batch (time-major, row t·rows + r), starting
   * from `initial`; the state it ends in belongs to the caller.
   */
  targetLogProbabilities(batch: Batch, initial?: LayerState[]): TargetLogProbabilities;
  /**
   * The output layer's logits [rows·seqLen, vocab] for every position of the batch
   * (time-major, row t·rows + r), starting from `initial`, for a caller that needs more of
   * each distribution than its target's share (the surprisal lens ranks every word). The
   * logits and the state belong to the caller.
   */
  inferenceLogits(batch: Batch, initial?: LayerState[]): { logits: tf.Tensor2D; state: LayerState[] };
  /**
   * Forward and backward pass of a training batch. `seed` drives the dropout masks.
   * `initial` is every layer's state to start from (zero when not given); it is a constant
   * to the backward pass, which is where truncated backpropagation through time truncates.
   * With `candidates` the output layer scores just those words: a
   * sampled softmax, whose loss figures are the full softmax's on some of the rows.
   * With `shift` the gradients are against the teacher's shifted targets (distillation.ts;
   * over the candidates when there are candidates). The returned gradients and state belong to the caller.
   */
  trainingStep(batch: Batch, seed: number, initial?: LayerState[], candidates?: Candidates, shift?: TargetShift): TrainingStep;
  /** With tied weights, copies the embeddings (transposed) into the output kernel after an update. */
  tieOutputKernel(): void;
}

/** The network for the active backend: TensorFlow's ops on native TensorFlow, SeqLab's kernels elsewhere. */
export function makeNetwork(parts: ModelParts, tiedWeights = false, weightDrop = 0): LanguageNetwork {
  return nativeBackendActive() ? new NativeNetwork(parts, tiedWeights, weightDrop) : new FastNetwork(parts, tiedWeights, weightDrop);
}
