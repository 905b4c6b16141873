/** SimpleRNN with tanh, as the TF.js layer computes it: h' = tanh(x·W + h·U + b). */
import * as tf from '@tensorflow/tfjs';
import type { RecurrentWeights } from '../../model';
import { defineKernel } from '../kernel';
import { crop, transpose } from '../layout';
import { tanh } from '../math';
import { simdFor } from '../wasm/simd';
import type { LayerState, Recurrence, RecurrenceRun } from '../recurrence';

/** Inputs: projection [N, U], h·U [B, U]. Output: h' [B, U]. */
const stepKernel = defineKernel<{ row: number }>({
  name: 'RnnStep',
  outputs: ([, shape]) => [{ shape }],
  run: ([xp, r], [h], { row }, [, [, units]]) => {
    const base = row * units;
    const simd = h.length % 4 === 0 ? simdFor(xp, r, h) : undefined;
    if (simd) return simd.rnn_step(xp.byteOffset + 4 * base, r.byteOffset, h.byteOffset, h.length);
    for (let i = 0; i < h.length; i++) h[i] = tanh(xp[base + i] + r[i]);
  },
});

/** Inputs: dL/dh of every step [N, U], gradient from the next step [B, U], the step's h' [B, U]. Output: dL/dz [B, U]. */
const backKernel = defineKernel<{ row: number }>({
  name: 'RnnStepBack',
  outputs: ([, shape]) => [{ shape }],
  run: ([dOut, dhNext, h], [dz], { row }, [, [, units]]) => {
    const base = row * units;
    const simd = dz.length % 4 === 0 ? simdFor(dOut, dhNext, h, dz) : undefined;
    if (simd) return simd.rnn_back(dOut.byteOffset + 4 * base, dhNext.byteOffset, h.byteOffset, dz.byteOffset, dz.length);
    for (let i = 0; i < dz.length; i++) {
      const hi = h[i];
      dz[i] = (dOut[base + i] + dhNext[i]) * (1 - hi * hi);
    }
  },
});

interface Saved {
  outputs: tf.Tensor2D[];
}

export class RnnRecurrence implements Recurrence<Saved> {
  readonly gates = 1;
  private recurrentTransposed: tf.Tensor2D | undefined;

  constructor(
    private readonly weights: RecurrentWeights,
    private readonly units: number,
  ) {}

  initialState(batch: number): LayerState {
    return [tf.zeros([batch, this.units])];
  }

  forward(projection: tf.Tensor2D, batch: number, state: LayerState, training: boolean): RecurrenceRun<Saved> {
    const steps = projection.shape[0] / batch;
    let [h] = state;
    const outputs: tf.Tensor2D[] = [];
    for (let t = 0; t < steps; t++) {
      const r = tf.matMul(h, this.weights.recurrentKernel);
      [h] = stepKernel([projection, r], { row: t * batch }) as tf.Tensor2D[];
      r.dispose();
      outputs.push(h);
    }
    return { outputs, state: [h], saved: { outputs: training ? outputs : [] } };
  }

  backward(outputGradient: tf.Tensor2D, saved: Saved, batch: number): tf.Tensor2D[] {
    this.recurrentTransposed ??= transpose(this.weights.recurrentKernel);
    let dhNext = tf.zeros([batch, this.units]) as tf.Tensor2D;
    const dz: tf.Tensor2D[] = new Array(saved.outputs.length);
    for (let t = saved.outputs.length - 1; t >= 0; t--) {
      dz[t] = backKernel([outputGradient, dhNext, saved.outputs[t]], { row: t * batch })[0] as tf.Tensor2D;
      if (t > 0) dhNext = tf.matMul(dz[t], this.recurrentTransposed);
    }
    return dz;
  }

  recurrentGradient(product: tf.Tensor2D, inputSize: number): tf.Tensor2D {
    return crop(product, inputSize, 0, this.units, product.shape[1]);
  }

  dispose(): void {
    this.recurrentTransposed?.dispose();
  }
}
