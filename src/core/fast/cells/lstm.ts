/**
 * LSTM with Keras' gate order (i, f, g, o) and activations (sigmoid gates, tanh
 * candidate and output), as the TF.js LSTM layer computes it:
 *   z = x·W + h·U + b;  i, f, o = σ(z_i, z_f, z_o);  g = tanh(z_g)
 *   c' = f·c + i·g;  h' = o·tanh(c')
 */
import * as tf from '@tensorflow/tfjs';
import type { RecurrentWeights } from '../../model';
import { defineKernel, type View } from '../kernel';
import { crop, transpose } from '../layout';
import { sigmoid, tanh } from '../math';
import { simdFor } from '../wasm/simd';
import type { LayerState, Recurrence, RecurrenceRun } from '../recurrence';

/** Inputs: projection [N, 4U], h·U [B, 4U], c [B, U]. Outputs: h', c', and when training the activated gates [B, 4U] and tanh(c') [B, U]. */
const stepKernel = defineKernel<{ row: number; keep: number }>({
  name: 'LstmStep',
  outputs: ([, [batch, width]], { keep }) => {
    const state = { shape: [batch, width / 4] };
    return keep ? [state, state, { shape: [batch, width] }, state] : [state, state];
  },
  run: ([xp, r, cPrev], [h, c, act, tc], { row, keep }, [, [batch, width]]) => {
    const units = width / 4;
    const base = row * width;
    const simd = units % 4 === 0 ? simdFor(xp, r, cPrev, h, c, ...(keep ? [act, tc] : [])) : undefined;
    if (simd) {
      const address = (view: View | undefined) => (keep && view ? view.byteOffset : 0);
      simd.lstm_step(xp.byteOffset + 4 * base, r.byteOffset, cPrev.byteOffset, h.byteOffset, c.byteOffset, address(act), address(tc), batch, units, keep);
      return;
    }
    for (let b = 0; b < batch; b++) {
      const zRow = b * width;
      const sRow = b * units;
      for (let u = 0; u < units; u++) {
        const z = zRow + u;
        const i = sigmoid(xp[base + z] + r[z]);
        const f = sigmoid(xp[base + z + units] + r[z + units]);
        const g = tanh(xp[base + z + 2 * units] + r[z + 2 * units]);
        const o = sigmoid(xp[base + z + 3 * units] + r[z + 3 * units]);
        const cNew = f * cPrev[sRow + u] + i * g;
        const tcNew = tanh(cNew);
        c[sRow + u] = cNew;
        h[sRow + u] = o * tcNew;
        if (keep) {
          act[z] = i;
          act[z + units] = f;
          act[z + 2 * units] = g;
          act[z + 3 * units] = o;
          tc[sRow + u] = tcNew;
        }
      }
    }
  },
});

/**
 * Inputs: dL/dh of every step [N, U], the gradient reaching h from the next step [B, U],
 * dL/dc' from the next step [B, U], the step's gates, tanh(c') and the c it started from.
 * Outputs: dL/dz [B, 4U] and dL/dc for the step before [B, U].
 */
const backKernel = defineKernel<{ row: number }>({
  name: 'LstmStepBack',
  outputs: ([, , , [batch, width]]) => [{ shape: [batch, width] }, { shape: [batch, width / 4] }],
  run: ([dOut, dhNext, dcNext, act, tc, cPrev], [dz, dcPrev], { row }, [, , , [batch, width]]) => {
    const units = width / 4;
    const base = row * units;
    const simd = units % 4 === 0 ? simdFor(dOut, dhNext, dcNext, act, tc, cPrev, dz, dcPrev) : undefined;
    if (simd) {
      simd.lstm_back(dOut.byteOffset + 4 * base, dhNext.byteOffset, dcNext.byteOffset, act.byteOffset, tc.byteOffset, cPrev.byteOffset, dz.byteOffset, dcPrev.byteOffset, batch, units);
      return;
    }
    for (let b = 0; b < batch; b++) {
      const zRow = b * width;
      const sRow = b * units;
      for (let u = 0; u < units; u++) {
        const s = sRow + u;
        const z = zRow + u;
        const i = act[z];
        const f = act[z + units];
        const g = act[z + 2 * units];
        const o = act[z + 3 * units];
        const t = tc[s];
        const dh = dOut[base + s] + dhNext[s];
        const dc = dcNext[s] + dh * o * (1 - t * t);
        dz[z] = dc * g * i * (1 - i);
        dz[z + units] = dc * cPrev[s] * f * (1 - f);
        dz[z + 2 * units] = dc * i * (1 - g * g);
        dz[z + 3 * units] = dh * t * o * (1 - o);
        dcPrev[s] = dc * f;
      }
    }
  },
});

interface Saved {
  /** Per step: gates, tanh(c'), and the c the step started from. */
  steps: { act: tf.Tensor2D; tc: tf.Tensor2D; cPrev: tf.Tensor2D }[];
}

export class LstmRecurrence implements Recurrence<Saved> {
  readonly gates = 4;
  private recurrentTransposed: tf.Tensor2D | undefined;

  constructor(
    private readonly weights: RecurrentWeights,
    private readonly units: number,
  ) {}

  initialState(batch: number): LayerState {
    return [tf.zeros([batch, this.units]), tf.zeros([batch, this.units])];
  }

  forward(projection: tf.Tensor2D, batch: number, state: LayerState, training: boolean): RecurrenceRun<Saved> {
    const steps = projection.shape[0] / batch;
    let [h, c] = state;
    const outputs: tf.Tensor2D[] = [];
    const saved: Saved = { steps: [] };
    for (let t = 0; t < steps; t++) {
      const r = tf.matMul(h, this.weights.recurrentKernel);
      const out = stepKernel([projection, r, c], { row: t * batch, keep: training ? 1 : 0 }) as tf.Tensor2D[];
      r.dispose();
      if (training) saved.steps.push({ act: out[2], tc: out[3], cPrev: c });
      [h, c] = out;
      outputs.push(h);
    }
    return { outputs, state: [h, c], saved };
  }

  backward(outputGradient: tf.Tensor2D, saved: Saved, batch: number): tf.Tensor2D[] {
    this.recurrentTransposed ??= transpose(this.weights.recurrentKernel);
    const zeros = tf.zeros([batch, this.units]) as tf.Tensor2D;
    let dhNext = zeros;
    let dcNext = zeros;
    const dz: tf.Tensor2D[] = new Array(saved.steps.length);
    for (let t = saved.steps.length - 1; t >= 0; t--) {
      const { act, tc, cPrev } = saved.steps[t];
      const [dzStep, dcPrev] = backKernel([outputGradient, dhNext, dcNext, act, tc, cPrev], { row: t * batch }) as tf.Tensor2D[];
      dz[t] = dzStep;
      dcNext = dcPrev;
      // The first step's state is the constant zero state: nothing to send back to it.
      if (t > 0) dhNext = tf.matMul(dzStep, this.recurrentTransposed);
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
