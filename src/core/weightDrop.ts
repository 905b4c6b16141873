/**
 * Weight drop (Merity et al. 2018, "Regularizing and Optimizing LSTM Language Models"):
 * DropConnect on the recurrent kernel. Each training batch runs its recurrence with a copy
 * of the kernel in which every entry is zeroed with probability `rate` (the rest scaled by
 * 1 / (1 − rate)), the same copy at every step of every window, so the dropout regularises
 * the recurrent connections without disturbing the state's memory from one step to the
 * next as a per-step mask on h would. Inference uses the kernel itself, its expectation.
 *
 * The mask comes from the batch's seed alone, so every thread of a data-parallel step draws
 * the same one, and both network implementations share this module.
 */
import * as tf from '@tensorflow/tfjs';
import { fillDropoutMask, type Lanes } from './fast/layout';
import type { RecurrentWeights } from './model';

export interface DroppedWeights {
  /** The layer's weights with the recurrent kernel masked. */
  weights: RecurrentWeights;
  /** 0 or 1 / (1 − rate) per entry of the recurrent kernel: the kernel's gradient is the masked one's times this. */
  mask: tf.Tensor2D;
}

/** The layer's weights for one training batch with `rate` of the recurrent kernel dropped; undefined when rate is 0. */
export function dropRecurrentWeights(weights: RecurrentWeights, rate: number, seed: number): DroppedWeights | undefined {
  if (rate <= 0) return undefined;
  const { recurrentKernel } = weights;
  const mask = dropoutMask(recurrentKernel.shape, rate, seed);
  return { weights: { ...weights, recurrentKernel: tf.mul(recurrentKernel, mask) }, mask };
}

/**
 * Inverted dropout of a matrix: 0 with probability `rate`, else 1 / (1 − rate); the same for
 * the same seed on every backend. Its rows are lanes of a time-major batch when `lanes` says
 * so (fast/layout.ts), else just rows. Drawn as the fast path draws (tf.randomUniform's
 * JavaScript generator took 2.5 ms for 32,000 numbers on native TensorFlow, this 0.5 ms).
 */
export function dropoutMask([rows, width]: number[], rate: number, seed: number, lanes: Lanes = { first: 0, total: rows, rows }): tf.Tensor2D {
  const values = new Float32Array(rows * width);
  fillDropoutMask(values, rate, seed, width, lanes);
  return tf.tensor2d(values, [rows, width]);
}
