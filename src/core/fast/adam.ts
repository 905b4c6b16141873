/**
 * Adam with global-norm gradient clipping, one kernel per variable.
 *
 * The update is tf.train.adam's (TF.js' AdamOptimizer, the one the stock path uses):
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w − lr · (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 * with g scaled by clipNorm / max(‖g‖, clipNorm) over all gradients together. TF.js spends
 * ~12 ops per variable on this (plus ~15 for the clipping), each a pass over the weights;
 * here it is one pass per variable, reading the norm from a tensor so nothing syncs.
 */
import * as tf from '@tensorflow/tfjs';
import { adamUpdates, type AdamSlots, type AdamStep } from '../native/adam';
import { nativeBackendActive } from '../native/ops';
import { defineKernel } from './kernel';
import { simdFor } from './wasm/simd';

const sumOfSquaresKernel = defineKernel<Record<string, never>>({
  name: 'SumOfSquares',
  outputs: () => [{ shape: [1] }],
  run: (inputs, [out]) => {
    out[0] = 0;
    let sum = 0;
    for (const values of inputs) {
      const simd = simdFor(values, out);
      const vectorised = simd ? values.length - (values.length % 4) : 0;
      if (simd && vectorised > 0) simd.sum_of_squares(values.byteOffset, vectorised, out.byteOffset);
      for (let i = vectorised; i < values.length; i++) sum += values[i] * values[i];
    }
    out[0] += sum;
  },
});

type AdamAttrs = AdamStep & { [key: string]: number };

/** Inputs: weights, gradient, m, v, Σg² over all gradients [1]. Outputs: new weights, m, v. */
const adamKernel = defineKernel<AdamAttrs>({
  name: 'AdamUpdate',
  outputs: ([shape]) => [{ shape }, { shape }, { shape }],
  run: ([w, g, m, v, sumOfSquares], [wNew, mNew, vNew], { learningRate, beta1, beta2, epsilon, clipNorm, correction1, correction2 }) => {
    const scale = clipNorm / Math.max(Math.sqrt(sumOfSquares[0]), clipNorm);
    // (m / c₁) / (√(v / c₂) + ε) with the constant factors taken out of the loop.
    const step = learningRate / correction1;
    const rootCorrection = 1 / Math.sqrt(correction2);
    const simd = simdFor(w, g, m, v, wNew, mNew, vNew);
    // The SIMD kernel takes whole groups of four; the loop below does the rest (or all).
    const vectorised = simd ? w.length - (w.length % 4) : 0;
    if (simd && vectorised > 0) {
      const at = [w, g, m, v, wNew, mNew, vNew].map((view) => view.byteOffset);
      simd.adam(at[0], at[1], at[2], at[3], at[4], at[5], at[6], vectorised, scale, beta1, beta2, step, rootCorrection, epsilon);
    }
    for (let i = vectorised; i < w.length; i++) {
      const gi = g[i] * scale;
      const mi = beta1 * m[i] + (1 - beta1) * gi;
      const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
      mNew[i] = mi;
      vNew[i] = vi;
      wNew[i] = w[i] - (step * mi) / (Math.sqrt(vi) * rootCorrection + epsilon);
    }
  },
});

/** [w, m, v] of every slot from the kernels above, the gradients clipped together. */
function kernelUpdates(slots: AdamSlots[], attrs: AdamAttrs): tf.Tensor[][] {
  const [sumOfSquares] = sumOfSquaresKernel(slots.map((slot) => slot.gradient), {});
  const updates = slots.map(({ weights, gradient, m, v }) => adamKernel([weights, gradient, m, v, sumOfSquares], attrs));
  sumOfSquares.dispose();
  return updates;
}

export interface AdamCheckpoint {
  step: number;
  learningRate: number;
  moments: ({ m: Float32Array; v: Float32Array } | null)[];
}

export interface AdamSettings {
  learningRate: number;
  clipNorm: number;
  beta1?: number;
  beta2?: number;
}

export class ClippedAdam {
  private readonly moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
  private step = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  /** The backend's epsilon, as tf.train.adam takes it (1e-7 for float32). */
  private readonly epsilon = tf.backend().epsilon();
  /** Changed by a learning-rate schedule between steps. */
  learningRate: number;

  constructor(private readonly settings: AdamSettings) {
    // TF.js' defaults for tf.train.adam(lr).
    this.beta1 = settings.beta1 ?? 0.9;
    this.beta2 = settings.beta2 ?? 0.999;
    this.learningRate = settings.learningRate;
  }

  /** Clips `gradients` (keyed by variable name) together and applies one Adam step. */
  apply(variables: tf.Variable[], gradients: tf.NamedTensorMap): void {
    this.step++;
    const attrs: AdamAttrs = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      clipNorm: this.settings.clipNorm,
      correction1: 1 - Math.pow(this.beta1, this.step),
      correction2: 1 - Math.pow(this.beta2, this.step),
    };
    const trained = variables.filter((variable) => gradients[variable.name]);
    const slots: AdamSlots[] = trained.map((variable) => ({
      weights: variable,
      gradient: gradients[variable.name],
      ...(this.moments.get(variable.name) ?? { m: tf.zerosLike(variable), v: tf.zerosLike(variable) }),
    }));
    // On native TensorFlow the same step as one graph of its own ops: the kernels would copy every weight.
    const updates = nativeBackendActive() ? adamUpdates(slots, attrs) : kernelUpdates(slots, attrs);
    trained.forEach((variable, i) => {
      const [w, m, v] = updates[i];
      variable.assign(w);
      tf.dispose([w, slots[i].m, slots[i].v]);
      this.moments.set(variable.name, { m, v });
    });
  }

  /** The step count, rate and moments (null where a variable had no gradient yet), in the order of `variables`. */
  checkpoint(variables: tf.Variable[]): AdamCheckpoint {
    return {
      step: this.step,
      learningRate: this.learningRate,
      moments: variables.map((variable) => {
        const moments = this.moments.get(variable.name);
        return moments ? { m: moments.m.dataSync().slice() as Float32Array, v: moments.v.dataSync().slice() as Float32Array } : null;
      }),
    };
  }

  /** Continues from a checkpoint of the same variables (by position: names differ between processes). */
  restore(variables: tf.Variable[], state: AdamCheckpoint): void {
    this.dispose();
    this.step = state.step;
    this.learningRate = state.learningRate;
    variables.forEach((variable, i) => {
      const moments = state.moments[i];
      if (moments) this.moments.set(variable.name, { m: tf.tensor(moments.m, variable.shape), v: tf.tensor(moments.v, variable.shape) });
    });
  }

  dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }
}
