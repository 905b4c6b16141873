/**
 * One timestep of SimpleRNN, GRU and LSTM written with core ops, computing exactly what
 * the TF.js layers compute (Keras gate order and weight layout). The predictor runs these
 * so it can keep the recurrent state between calls and feed only new tokens.
 *
 * Every step takes the input projection `x·W + b` precomputed, because that part has no
 * dependence on the state and can be done for all timesteps in one matmul.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellType } from '../protocol/types';
import type { RecurrentWeights } from './model';

/** Recurrent state of one layer: [h] for SimpleRNN and GRU, [h, c] for LSTM. */
export type LayerState = tf.Tensor2D[];

/** A recurrent layer's weights, pre-split where a cell needs parts of a matrix each step. */
export class RecurrentStep {
  private readonly recurrentGates: tf.Tensor2D; // GRU: the z and r columns
  private readonly recurrentCandidate: tf.Tensor2D | undefined; // GRU: the h column

  constructor(
    readonly cell: CellType,
    readonly units: number,
    private readonly weights: RecurrentWeights,
  ) {
    if (cell === 'gru') {
      const [gates, candidate] = tf.split(weights.recurrentKernel, [2 * units, units], 1) as tf.Tensor2D[];
      this.recurrentGates = tf.keep(gates);
      this.recurrentCandidate = tf.keep(candidate);
    } else {
      this.recurrentGates = weights.recurrentKernel;
    }
  }

  /** Zero state for a batch. */
  initialState(batch: number): LayerState {
    const count = this.cell === 'lstm' ? 2 : 1;
    return Array.from({ length: count }, () => tf.zeros([batch, this.units]) as tf.Tensor2D);
  }

  /** `inputs·W + b` for many rows at once: [rows, input] → [rows, gates × units]. */
  project(inputs: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(inputs, this.weights.kernel), this.weights.bias);
  }

  /** Advances the state by one timestep given that timestep's input projection. */
  step(projection: tf.Tensor2D, state: LayerState): LayerState {
    const u = this.units;
    const h = state[0];
    switch (this.cell) {
      case 'rnn':
        return [tf.tanh(tf.add(projection, tf.matMul(h, this.recurrentGates))) as tf.Tensor2D];
      case 'lstm': {
        const z = tf.add(projection, tf.matMul(h, this.recurrentGates)) as tf.Tensor2D;
        const [i, f, g, o] = tf.split(z, 4, 1);
        const c = tf.add(tf.mul(tf.sigmoid(f), state[1]), tf.mul(tf.sigmoid(i), tf.tanh(g))) as tf.Tensor2D;
        return [tf.mul(tf.sigmoid(o), tf.tanh(c)) as tf.Tensor2D, c];
      }
      case 'gru': {
        const [xz, xr, xh] = tf.split(projection, [u, u, u], 1);
        const [rz, rr] = tf.split(tf.matMul(h, this.recurrentGates), 2, 1);
        const zGate = tf.sigmoid(tf.add(xz, rz));
        const rGate = tf.sigmoid(tf.add(xr, rr));
        const candidate = tf.tanh(tf.add(xh, tf.matMul(tf.mul(rGate, h), this.recurrentCandidate!)));
        // h' = z·h + (1 − z)·candidate, as Keras writes it.
        return [tf.add(tf.mul(zGate, h), tf.mul(tf.sub(1, zGate), candidate)) as tf.Tensor2D];
      }
    }
  }

  dispose(): void {
    if (this.recurrentCandidate) {
      this.recurrentGates.dispose();
      this.recurrentCandidate.dispose();
    }
  }
}
