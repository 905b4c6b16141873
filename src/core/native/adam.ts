/**
 * The fast path's clipped Adam step (fast/adam.ts) as TensorFlow ops, for the native
 * backend, where SeqLab's in-place kernels would copy every weight in and out.
 * Same formula, same order of operations up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';

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

/** Σ g² over every gradient, [1]. */
export function sumOfSquares(gradients: tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => tf.reshape(tf.addN(gradients.map((g) => tf.sum(tf.square(g)))), [1]));
}

/** New weights and moments of one variable: [w, m, v]. */
export function adamUpdate(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, squares: tf.Tensor1D, step: AdamStep): tf.Tensor[] {
  return tf.tidy(() => {
    const norm = tf.sqrt(squares);
    const scale = tf.div(step.clipNorm, tf.maximum(norm, step.clipNorm));
    const clipped = tf.mul(g, scale);
    const mNew = tf.add(tf.mul(m, step.beta1), tf.mul(clipped, 1 - step.beta1));
    const vNew = tf.add(tf.mul(v, step.beta2), tf.mul(tf.square(clipped), 1 - step.beta2));
    const denominator = tf.add(tf.mul(tf.sqrt(vNew), 1 / Math.sqrt(step.correction2)), step.epsilon);
    const wNew = tf.sub(w, tf.div(tf.mul(mNew, step.learningRate / step.correction1), denominator));
    return [wNew, mNew, vNew];
  });
}
