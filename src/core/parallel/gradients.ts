/**
 * Gradients as the threads of a data-parallel step exchange them: every thread writes its
 * lanes' gradients into its own shared buffer, in the order of the model's variables
 * (names differ between threads, the order does not); the trainer writes their weighted
 * sum, the whole batch's gradient, into one more, which every thread reads. The buffers
 * are made once and reused: no step allocates or copies megabytes through messages.
 */
import * as tf from '@tensorflow/tfjs';
import { copyValuesInto } from '../fast/kernel';

/** Where each variable's gradient sits in a buffer: every variable has its place, in model order. */
export class GradientLayout {
  readonly offsets: number[] = [];
  readonly size: number;

  constructor(readonly sizes: number[]) {
    let offset = 0;
    for (const size of sizes) {
      this.offsets.push(offset);
      offset += size;
    }
    this.size = offset;
  }

  static of(variables: tf.Variable[]): GradientLayout {
    return new GradientLayout(variables.map((v) => v.size));
  }

  newBuffer(): Float32Array {
    return new Float32Array(new SharedArrayBuffer(this.size * Float32Array.BYTES_PER_ELEMENT));
  }

  /** Writes `gradients` into `buffer`; returns which variables have one (the tied output kernel has none). */
  write(variables: tf.Variable[], gradients: tf.NamedTensorMap, buffer: Float32Array): boolean[] {
    return variables.map((v, i) => {
      const gradient = gradients[v.name];
      if (gradient) copyValuesInto(gradient, buffer, this.offsets[i]);
      return gradient !== undefined;
    });
  }

  /** The gradients in `buffer` as tensors (owned by the caller), keyed by the names of this thread's `variables`. */
  read(variables: tf.Variable[], buffer: Float32Array, present: boolean[]): tf.NamedTensorMap {
    const gradients: tf.NamedTensorMap = {};
    variables.forEach((v, i) => {
      if (present[i]) gradients[v.name] = tf.tensor(buffer.subarray(this.offsets[i], this.offsets[i] + this.sizes[i]), v.shape);
    });
    return gradients;
  }

  /**
   * sum = Σ weightₛ · partₛ over the variables present, the parts in order (so every run of
   * the same split sums alike). With weightₛ = the part's share of the batch's targets, the
   * parts' mean-loss gradients add up to the mean-loss gradient of the whole batch.
   */
  weightedSum(parts: Float32Array[], weights: number[], present: boolean[], sum: Float32Array): void {
    present.forEach((isPresent, i) => {
      if (!isPresent) return;
      const from = this.offsets[i];
      const to = from + this.sizes[i];
      const first = parts[0];
      const w0 = weights[0];
      for (let j = from; j < to; j++) sum[j] = w0 * first[j];
      for (let s = 1; s < parts.length; s++) addScaled(sum, parts[s], weights[s], from, to);
    });
  }
}

function addScaled(sum: Float32Array, values: Float32Array, weight: number, from: number, to: number): void {
  for (let j = from; j < to; j++) sum[j] += weight * values[j];
}
