/**
 * GRU as the TF.js layer computes it (Keras' reset_after = false, sigmoid gates, tanh):
 *   z = σ(x·W_z + h·U_z + b_z);  r = σ(x·W_r + h·U_r + b_r)
 *   ĥ = tanh(x·W_h + (r∘h)·U_h + b_h);  h' = z∘h + (1 − z)∘ĥ
 * The candidate needs r before its matmul, so each step is two matmuls and two kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { RecurrentWeights } from '../../model';
import { defineKernel } from '../kernel';
import { crop, stackTransposed, transpose } from '../layout';
import { sigmoid, tanh } from '../math';
import { simdFor } from '../wasm/simd';
import type { LayerState, Recurrence, RecurrenceRun } from '../recurrence';

/** Inputs: projection [N, 3U], h·[U_z U_r] [B, 2U], h [B, U]. Outputs: z and r [B, 2U], r∘h [B, U]. */
const gatesKernel = defineKernel<{ row: number }>({
  name: 'GruGates',
  outputs: ([, zr, h]) => [{ shape: zr }, { shape: h }],
  run: ([xp, rzr, h], [zr, rh], { row }, [, , [batch, units]]) => {
    const width = 3 * units;
    const simd = units % 4 === 0 ? simdFor(xp, rzr, h, zr, rh) : undefined;
    if (simd) return simd.gru_gates(xp.byteOffset + 4 * row * width, rzr.byteOffset, h.byteOffset, zr.byteOffset, rh.byteOffset, batch, units);
    for (let b = 0; b < batch; b++) {
      const x = (row + b) * width;
      const g = b * 2 * units;
      const s = b * units;
      for (let u = 0; u < units; u++) {
        const z = sigmoid(xp[x + u] + rzr[g + u]);
        const r = sigmoid(xp[x + units + u] + rzr[g + units + u]);
        zr[g + u] = z;
        zr[g + units + u] = r;
        rh[s + u] = r * h[s + u];
      }
    }
  },
});

/** Inputs: projection [N, 3U], (r∘h)·U_h [B, U], z and r [B, 2U], h [B, U]. Outputs: h' and, when training, ĥ. */
const outputKernel = defineKernel<{ row: number; keep: number }>({
  name: 'GruOutput',
  outputs: ([, shape], { keep }) => (keep ? [{ shape }, { shape }] : [{ shape }]),
  run: ([xp, rh, zr, h], [hNew, candidate], { row, keep }, [, [batch, units]]) => {
    const width = 3 * units;
    const simd = units % 4 === 0 ? simdFor(xp, rh, zr, h, hNew, ...(keep ? [candidate] : [])) : undefined;
    if (simd) {
      const candidateAddress = keep ? candidate.byteOffset : 0;
      return simd.gru_output(xp.byteOffset + 4 * row * width, rh.byteOffset, zr.byteOffset, h.byteOffset, hNew.byteOffset, candidateAddress, batch, units, keep);
    }
    for (let b = 0; b < batch; b++) {
      const x = (row + b) * width + 2 * units;
      const g = b * 2 * units;
      const s = b * units;
      for (let u = 0; u < units; u++) {
        const hh = tanh(xp[x + u] + rh[s + u]);
        const z = zr[g + u];
        hNew[s + u] = z * h[s + u] + (1 - z) * hh;
        if (keep) candidate[s + u] = hh;
      }
    }
  },
});

/**
 * First half of a step back. Inputs: dL/dh' of every step [N, U], the two parts of the
 * gradient reaching h' from the next step [B, U] each, z and r [B, 2U], ĥ [B, U].
 * Outputs: the total dL/dh' [B, U] and dL/d(candidate pre-activation) [B, U].
 */
const back1Kernel = defineKernel<{ row: number }>({
  name: 'GruBack1',
  outputs: ([, shape]) => [{ shape }, { shape }],
  run: ([dOut, dhA, dhB, zr, candidate], [dh, dPre], { row }, [, [batch, units]]) => {
    const base = row * units;
    const simd = units % 4 === 0 ? simdFor(dOut, dhA, dhB, zr, candidate, dh, dPre) : undefined;
    if (simd) return simd.gru_back1(dOut.byteOffset + 4 * base, dhA.byteOffset, dhB.byteOffset, zr.byteOffset, candidate.byteOffset, dh.byteOffset, dPre.byteOffset, batch, units);
    for (let b = 0; b < batch; b++) {
      const g = b * 2 * units;
      const s = b * units;
      for (let u = 0; u < units; u++) {
        const d = dOut[base + s + u] + dhA[s + u] + dhB[s + u];
        const hh = candidate[s + u];
        dh[s + u] = d;
        dPre[s + u] = d * (1 - zr[g + u]) * (1 - hh * hh);
      }
    }
  },
});

/**
 * Second half. Inputs: dL/dh' [B, U], dL/d(candidate pre-activation) [B, U],
 * dL/d(r∘h) [B, U], z and r [B, 2U], ĥ [B, U], h [B, U].
 * Outputs: dL/dz for all three gates [B, 3U], the z and r part alone [B, 2U] (to multiply
 * by U_zrᵀ), and the part of dL/dh that needs no matmul [B, U].
 */
const back2Kernel = defineKernel<Record<string, never>>({
  name: 'GruBack2',
  outputs: ([[batch, units]]) => [{ shape: [batch, 3 * units] }, { shape: [batch, 2 * units] }, { shape: [batch, units] }],
  run: ([dh, dPre, dRh, zr, candidate, h], [dz, dzr, dhDirect], _, [[batch, units]]) => {
    const simd = units % 4 === 0 ? simdFor(dh, dPre, dRh, zr, candidate, h, dz, dzr, dhDirect) : undefined;
    if (simd) {
      const at = [dh, dPre, dRh, zr, candidate, h, dz, dzr, dhDirect].map((view) => view.byteOffset);
      return simd.gru_back2(at[0], at[1], at[2], at[3], at[4], at[5], at[6], at[7], at[8], batch, units);
    }
    for (let b = 0; b < batch; b++) {
      const g = b * 2 * units;
      const w = b * 3 * units;
      const s = b * units;
      for (let u = 0; u < units; u++) {
        const z = zr[g + u];
        const r = zr[g + units + u];
        const hPrev = h[s + u];
        const d = dh[s + u];
        const dzGate = d * (hPrev - candidate[s + u]) * z * (1 - z);
        const drGate = dRh[s + u] * hPrev * r * (1 - r);
        dz[w + u] = dzGate;
        dz[w + units + u] = drGate;
        dz[w + 2 * units + u] = dPre[s + u];
        dzr[g + u] = dzGate;
        dzr[g + units + u] = drGate;
        dhDirect[s + u] = d * z + dRh[s + u] * r;
      }
    }
  },
});

interface Saved {
  steps: { zr: tf.Tensor2D; candidate: tf.Tensor2D; hPrev: tf.Tensor2D }[];
  /** r∘h of every step: the candidate's recurrent kernel multiplies these. */
  products: tf.Tensor2D[];
  /** dL/d(candidate pre-activation) of every step, filled in by backward. */
  candidateGradients: tf.Tensor2D[];
}

export class GruRecurrence implements Recurrence<Saved> {
  readonly gates = 3;
  private readonly gateKernel: tf.Tensor2D; // U_z and U_r: [U, 2U]
  private readonly candidateKernel: tf.Tensor2D; // U_h: [U, U]
  private transposed: { gates: tf.Tensor2D; candidate: tf.Tensor2D } | undefined;

  constructor(
    weights: RecurrentWeights,
    private readonly units: number,
  ) {
    this.gateKernel = crop(weights.recurrentKernel, 0, 0, units, 2 * units);
    this.candidateKernel = crop(weights.recurrentKernel, 0, 2 * units, units, units);
  }

  initialState(batch: number): LayerState {
    return [tf.zeros([batch, this.units])];
  }

  forward(projection: tf.Tensor2D, batch: number, state: LayerState, training: boolean): RecurrenceRun<Saved> {
    const steps = projection.shape[0] / batch;
    let [h] = state;
    const outputs: tf.Tensor2D[] = [];
    const saved: Saved = { steps: [], products: [], candidateGradients: [] };
    for (let t = 0; t < steps; t++) {
      const row = t * batch;
      const rzr = tf.matMul(h, this.gateKernel);
      const [zr, rh] = gatesKernel([projection, rzr, h], { row }) as tf.Tensor2D[];
      const rrh = tf.matMul(rh, this.candidateKernel);
      const [hNew, candidate] = outputKernel([projection, rrh, zr, h], { row, keep: training ? 1 : 0 }) as tf.Tensor2D[];
      tf.dispose([rzr, rrh]);
      if (training) {
        saved.steps.push({ zr, candidate, hPrev: h });
        saved.products.push(rh);
      } else {
        tf.dispose([zr, rh]);
      }
      h = hNew;
      outputs.push(h);
    }
    return { outputs, state: [h], saved };
  }

  backward(outputGradient: tf.Tensor2D, saved: Saved, batch: number): tf.Tensor2D[] {
    this.transposed ??= { gates: transpose(this.gateKernel), candidate: transpose(this.candidateKernel) };
    const { gates, candidate: candidateT } = this.transposed;
    const zeros = tf.zeros([batch, this.units]) as tf.Tensor2D;
    let dhA = zeros;
    let dhB = zeros;
    const dz: tf.Tensor2D[] = new Array(saved.steps.length);
    for (let t = saved.steps.length - 1; t >= 0; t--) {
      const { zr, candidate, hPrev } = saved.steps[t];
      const [dh, dPre] = back1Kernel([outputGradient, dhA, dhB, zr, candidate], { row: t * batch }) as tf.Tensor2D[];
      saved.candidateGradients[t] = dPre;
      const dRh = tf.matMul(dPre, candidateT);
      const [dzStep, dzr, dhDirect] = back2Kernel([dh, dPre, dRh, zr, candidate, hPrev], {}) as tf.Tensor2D[];
      dz[t] = dzStep;
      if (t > 0) {
        dhA = tf.matMul(dzr, gates);
        dhB = dhDirect;
      }
    }
    return dz;
  }

  recurrentGradient(product: tf.Tensor2D, inputSize: number, saved: Saved): tf.Tensor2D {
    const u = this.units;
    // Rows of h₋₁ times the z and r columns of A·dZ; the candidate's part is (r∘h)ᵀ times
    // its own gradients, a second product (cheaper than giving A the r∘h rows and throwing
    // away two thirds of what they multiply).
    const gates = crop(product, inputSize, 0, u, 2 * u);
    const candidate: tf.Tensor2D = tf.matMul(stackTransposed(saved.products), tf.concat(saved.candidateGradients));
    return tf.concat([gates, candidate], 1);
  }

  dispose(): void {
    tf.dispose([this.gateKernel, this.candidateKernel]);
    if (this.transposed) tf.dispose([this.transposed.gates, this.transposed.candidate]);
  }
}
