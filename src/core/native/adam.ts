/**
 * The fast path's clipped Adam step (fast/adam.ts) as TensorFlow ops, for the native
 * backend, where SeqLab's in-place kernels would copy every weight in and out.
 * Same formula, same order of operations up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { add, div, mul, sqrt, square, sub } from './ops';

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
  return tf.tidy(() => tf.reshape(tf.addN(gradients.map((g) => tf.sum(square(g)))), [1]));
}

/** New weights and moments of one variable: [w, m, v]. */
export function adamUpdate(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, squares: tf.Tensor1D, step: AdamStep): tf.Tensor[] {
  return tf.tidy(() => {
    const scalar = (value: number) => tf.scalar(value);
    const scale = div(scalar(step.clipNorm), tf.maximum(sqrt(squares), step.clipNorm));
    const clipped = mul(g, scale);
    const mNew = add(mul(m, scalar(step.beta1)), mul(clipped, scalar(1 - step.beta1)));
    const vNew = add(mul(v, scalar(step.beta2)), mul(square(clipped), scalar(1 - step.beta2)));
    const denominator = add(mul(sqrt(vNew), scalar(1 / Math.sqrt(step.correction2))), scalar(step.epsilon));
    const wNew = sub(w, div(mul(mNew, scalar(step.learningRate / step.correction1)), denominator));
    return [wNew, mNew, vNew];
  });
}
