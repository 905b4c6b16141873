/** What the data-parallel trainer and its threads say to each other. */
import type { AdamCheckpoint } from '../fast/adam';
import type { Batch } from '../dataset';
import type { Candidates } from '../fast/candidates';
import type { BackendName } from '../backend';
import type { TrainerSettings } from '../fast/trainer';

/** Marks a worker thread as a training thread (workerData), for the bundle's entry point. */
export const TRAINING_THREAD_MARK = 'seqlabTrainingThread';

export interface ThreadStart {
  [TRAINING_THREAD_MARK]: true;
  backend: BackendName;
  /** The model's topology (model.toJSON), to build the same layers. */
  topology: unknown;
  /** Every trainable variable's values, in model order. */
  weights: Float32Array[];
  /** The optimizer's state, when training goes on from a checkpoint or from earlier steps. */
  optimizer?: AdamCheckpoint;
  settings: TrainerSettings;
  /** Shared buffers (see GradientLayout): where this thread writes its lanes' gradients, and where it reads the whole batch's. */
  gradients: Float32Array;
  sum: Float32Array;
}

export type ToThread =
  /** Compute this part's gradients with the batch's dropout seed, into the thread's buffer. */
  | { type: 'gradients'; batch: Batch; seed: number; candidates?: Candidates }
  /** Apply the whole batch's gradients, which are in the sum buffer (for the variables `present`). */
  | { type: 'update'; present: boolean[] }
  /**
   * Train this thread's copy on these lanes by itself, with no gradients exchanged: the
   * scaling bench's measure of what a split step costs without the exchange.
   */
  | { type: 'train-alone'; batch: Batch; seed: number; candidates?: Candidates }
  | { type: 'scale-learning-rate'; factor: number }
  /** Send the weights (to check that the threads agree). */
  | { type: 'weights' };

export type FromThread =
  | { type: 'ready' }
  /** The gradients are in the thread's buffer (for the variables `present`). */
  | { type: 'gradients'; lossSum: number; top1: number; present: boolean[] }
  /** The update is applied: the sum buffer may be written again. */
  | { type: 'updated' }
  | { type: 'trained-alone' }
  | { type: 'weights'; weights: Float32Array[] }
  | { type: 'failed'; message: string };
