/**
 * What the fast path needs from a recurrent cell: run its recurrence over a time-major
 * batch, forward and back, with one matmul and one fused elementwise kernel per step (two
 * of each for GRU) instead of the dozen ops per step of the stock layers.
 *
 * Shapes: batch B, steps T, N = T·B rows, units U, G gate blocks per cell (SimpleRNN 1,
 * GRU 3, LSTM 4). The input projection `x·W + b` of every step is computed before the
 * recurrence in one matmul and passed in as `projection` [N, G·U].
 */
import type * as tf from '@tensorflow/tfjs';

/** Recurrent state of one layer: [h] for SimpleRNN and GRU, [h, c] for LSTM. */
export type LayerState = tf.Tensor2D[];

export interface RecurrenceRun<Saved> {
  /** h of every step, in time order, each [B, U]. */
  outputs: tf.Tensor2D[];
  /** State after the last step. */
  state: LayerState;
  /** What `backward` needs (only when run for training). */
  saved: Saved;
}

export interface Recurrence<Saved = unknown> {
  readonly gates: number;
  /** Zero state for a batch. */
  initialState(batch: number): LayerState;
  forward(projection: tf.Tensor2D, batch: number, state: LayerState, training: boolean): RecurrenceRun<Saved>;
  /**
   * Given the gradient of the loss w.r.t. every step's output h ([N, U], time-major),
   * returns the gradient w.r.t. every step's gate pre-activations ([B, G·U] each, in
   * time order). The initial state is a constant, so no gradient flows into it.
   */
  backward(outputGradient: tf.Tensor2D, saved: Saved, batch: number): tf.Tensor2D[];
  /**
   * The recurrent kernel's gradient [U, G·U], from the product A·dZ whose rows are
   * [input; h₋₁…; ones] (see layout.ts stackTrainingSteps) and what forward and backward
   * kept in `saved`.
   */
  recurrentGradient(product: tf.Tensor2D, inputSize: number, saved: Saved): tf.Tensor2D;
  /**
   * Frees the weight forms the recurrence made outside any tf.tidy (the predictor keeps
   * one for its lifetime). Tensors made while it runs belong to the caller's scope: the
   * network makes a recurrence per batch inside its tidy.
   */
  dispose(): void;
}
