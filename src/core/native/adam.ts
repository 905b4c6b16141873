/**
 * The fast path's clipped Adam step (fast/adam.ts) as one TensorFlow graph over every
 * variable, for the native backend, where SeqLab's in-place kernels would copy every
 * weight in and out. Same formula, same order of operations up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { Graph } from './graph';
import { cachedGraph } from './session';

export interface AdamStep {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  clipNorm: number;
  /** 1 − β₁ᵗ and 1 − β₂ᵗ: the bias corrections of step t. */
  correction1: number;
  correction2: number;
}

export interface AdamSlots {
  weights: tf.Tensor;
  gradient: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
}

/**
 * New weights and moments [w, m, v] of every variable, the gradients clipped together to
 * `clipNorm`. The step's learning rate and corrections are fed; the rest is built in.
 */
export function adamUpdates(slots: AdamSlots[], step: AdamStep): tf.Tensor[][] {
  const shapes = slots.map((slot) => slot.weights.shape);
  const { beta1, beta2, epsilon, clipNorm } = step;
  const key = JSON.stringify({ kind: 'adam', shapes, beta1, beta2, epsilon, clipNorm });
  const graph = cachedGraph(key, () => {
    const g = new Graph();
    const vars = shapes.map((shape, i) => ({
      w: g.input(`w_${i}`, shape),
      g: g.input(`g_${i}`, shape),
      m: g.input(`m_${i}`, shape),
      v: g.input(`v_${i}`, shape),
    }));
    // [lr / c₁, 1 / √c₂]
    const [stepSize, rootCorrection] = g.unstack(g.input('step', [2]), 2);
    const squares = g.addN(vars.map((slot) => g.sum(g.square(slot.g), slot.g.shape.map((_, axis) => axis))));
    const clip = g.scalar(clipNorm);
    const scale = g.div(clip, g.maximum(g.sqrt(squares), clip));
    const outputs = vars.flatMap((slot) => {
      const clipped = g.mul(slot.g, scale);
      const m = g.add(g.mul(slot.m, g.scalar(beta1)), g.mul(clipped, g.scalar(1 - beta1)));
      const v = g.add(g.mul(slot.v, g.scalar(beta2)), g.mul(g.square(clipped), g.scalar(1 - beta2)));
      const denominator = g.add(g.mul(g.sqrt(v), rootCorrection), g.scalar(epsilon));
      const w = g.sub(slot.w, g.div(g.mul(m, stepSize), denominator));
      return [w, m, v];
    });
    return { graph: g, outputs };
  });
  return tf.tidy(() => {
    const stepValues = tf.tensor1d([step.learningRate / step.correction1, 1 / Math.sqrt(step.correction2)]);
    const outputs = graph.run([...slots.flatMap((slot) => [slot.weights, slot.gradient, slot.m, slot.v]), stepValues]);
    return slots.map((_, i) => outputs.slice(3 * i, 3 * i + 3));
  });
}
