/**
 * The three recurrent cells on native TensorFlow, forward and back, from the same
 * variables as the TF.js layers (kernel [in, G·U], recurrent kernel [U, G·U], bias [G·U]).
 *
 * Each uses TensorFlow's fused kernels where it has them, so that a step is few ops: LSTM
 * runs the whole window forward in one BlockLSTM op and goes back one LSTMBlockCellGrad and
 * one matmul per step; GRU is one GRUBlockCell op per step forward and one
 * GRUBlockCellGrad back (TF's cell is Keras' reset_after = false GRU, which is what the
 * TF.js layer computes); SimpleRNN, which has no fused kernel, is a matmul, an add and a
 * tanh per step. Weight gradients that TF's per-step kernels would add up in small pieces
 * are one matmul over all N = T·B rows instead.
 *
 * Rows are time-major everywhere: row t·B + b is window b at step t.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellType } from '../../protocol/types';
import type { LayerState } from '../fast/recurrence';
import type { RecurrentWeights } from '../model';
import { add, FLOAT, int64, matMul, runOp, tanh, unstack } from './ops';


export interface NativeRun {
  /** h of every step, [N, U], time-major. */
  outputs: tf.Tensor2D;
  /** State after the last step. */
  state: LayerState;
  /** What `backward` needs (only when run for training). */
  saved: unknown;
}

export interface WeightGradients {
  kernel: tf.Tensor2D;
  recurrentKernel: tf.Tensor2D;
  bias: tf.Tensor1D;
  /** dL/d(layer input) [N, in]. */
  input: tf.Tensor2D;
}

export interface NativeCell {
  initialState(batch: number): LayerState;
  /** Runs the layer over time-major input [N, in] of `steps` steps from `state`. */
  forward(input: tf.Tensor2D, steps: number, state: LayerState, training: boolean): NativeRun;
  /** The gradients, given dL/dh of every step [N, U]. The initial state is a constant. */
  backward(outputGradient: tf.Tensor2D, saved: unknown): WeightGradients;
}

export function makeNativeCell(cell: CellType, weights: RecurrentWeights, units: number): NativeCell {
  switch (cell) {
    case 'rnn':
      return new NativeRnn(weights, units);
    case 'gru':
      return new NativeGru(weights, units);
    case 'lstm':
      return new NativeLstm(weights, units);
  }
}

/** Gate blocks of the TF.js layout [g₀ g₁ …] (each U wide) along the last axis. */
function gateBlocks(x: tf.Tensor, gates: number): tf.Tensor[] {
  return tf.split(x, gates, x.rank - 1);
}

/** The rows of every step of a time-major [N, U] matrix, [B, U] each, in one op. */
function stepRows(x: tf.Tensor2D, steps: number): tf.Tensor2D[] {
  return unstack(tf.reshape(x, [steps, x.shape[0] / steps, x.shape[1]]), steps) as tf.Tensor2D[];
}

/** Stacks per-step [B, U] matrices into time-major [N, U]. */
function stackSteps(steps: tf.Tensor2D[]): tf.Tensor2D {
  return tf.concat(steps, 0);
}

/** [h₀; h₁ … h_{T−1}] shifted by one step: the state each step started from, [N, U]. */
function previousStates(initial: tf.Tensor2D, outputs: tf.Tensor2D, steps: number): tf.Tensor2D {
  const batch = initial.shape[0];
  return tf.concat([initial, tf.slice(outputs, [0, 0], [(steps - 1) * batch, outputs.shape[1]])], 0);
}

/** The kernel's, the recurrent kernel's and the bias' gradients from [input, h₋₁]ᵀ·dZ. */
function splitWeightGradient(product: tf.Tensor2D, inputSize: number): { kernel: tf.Tensor2D; recurrentKernel: tf.Tensor2D } {
  const [kernel, recurrentKernel] = tf.split(product, [inputSize, product.shape[0] - inputSize], 0);
  return { kernel: kernel as tf.Tensor2D, recurrentKernel: recurrentKernel as tf.Tensor2D };
}

const zeroState = (batch: number, units: number) => tf.zeros([batch, units]) as tf.Tensor2D;

/** h' = tanh(x·W + h·U + b), with x·W + b for all steps in one matmul. */
class NativeRnn implements NativeCell {
  constructor(
    private readonly weights: RecurrentWeights,
    private readonly units: number,
  ) {}

  initialState(batch: number): LayerState {
    return [zeroState(batch, this.units)];
  }

  forward(input: tf.Tensor2D, steps: number, [h0]: LayerState): NativeRun {
    const { kernel, recurrentKernel, bias } = this.weights;
    const projection = tf.add(matMul(input, kernel), bias) as tf.Tensor2D;
    const projections = stepRows(projection, steps);
    const hs: tf.Tensor2D[] = [];
    let h = h0;
    for (let t = 0; t < steps; t++) {
      h = tanh(add(projections[t], matMul(h, recurrentKernel))) as tf.Tensor2D;
      hs.push(h);
    }
    const outputs = stackSteps(hs);
    return { outputs, state: [h], saved: { input, h0, hs, outputs, steps } };
  }

  backward(outputGradient: tf.Tensor2D, saved: unknown): WeightGradients {
    const { input, h0, hs, outputs, steps } = saved as { input: tf.Tensor2D; h0: tf.Tensor2D; hs: tf.Tensor2D[]; outputs: tf.Tensor2D; steps: number };
    const { kernel, recurrentKernel } = this.weights;
    const recurrentTransposed = tf.transpose(recurrentKernel);
    const dZ: tf.Tensor2D[] = new Array(steps);
    const dhs = stepRows(outputGradient, steps);
    let carried: tf.Tensor2D | undefined;
    for (let t = steps - 1; t >= 0; t--) {
      const total = carried ? add(dhs[t], carried) : dhs[t];
      // d tanh(z) = (1 − h²)·dh, as TensorFlow's TanhGrad computes it from the output.
      dZ[t] = runOp('TanhGrad', [hs[t], total], FLOAT, 1)[0] as tf.Tensor2D;
      if (t > 0) carried = matMul(dZ[t], recurrentTransposed);
    }
    const dz = stackSteps(dZ);
    const inputs = tf.concat([input, previousStates(h0, outputs, steps)], 1);
    return {
      ...splitWeightGradient(matMul(inputs, dz, true, false), input.shape[1]),
      bias: tf.sum(dz, 0),
      input: matMul(dz, kernel, false, true),
    };
  }
}

/**
 * TF.js/Keras GRU (gates z, r, ĥ) as TensorFlow's GRUBlockCell, whose weights are
 * w_ru = [W; U] over the gates (r, u = z) and w_c = [W; U] of the candidate.
 */
class NativeGru implements NativeCell {
  private readonly wRu: tf.Tensor2D;
  private readonly wC: tf.Tensor2D;
  private readonly bRu: tf.Tensor1D;
  private readonly bC: tf.Tensor1D;

  constructor(
    weights: RecurrentWeights,
    private readonly units: number,
  ) {
    const [kz, kr, kh] = gateBlocks(tf.concat([weights.kernel, weights.recurrentKernel], 0), 3);
    const [bz, br, bh] = gateBlocks(weights.bias, 3);
    this.wRu = tf.concat([kr, kz], 1) as tf.Tensor2D;
    this.wC = kh as tf.Tensor2D;
    this.bRu = tf.concat([br, bz]) as tf.Tensor1D;
    this.bC = bh as tf.Tensor1D;
  }

  initialState(batch: number): LayerState {
    return [zeroState(batch, this.units)];
  }

  forward(input: tf.Tensor2D, steps: number, [h0]: LayerState): NativeRun {
    const xs: tf.Tensor2D[] = [];
    const gates: tf.Tensor2D[][] = [];
    const hs: tf.Tensor2D[] = [];
    const inputs = stepRows(input, steps);
    let h = h0;
    for (let t = 0; t < steps; t++) {
      const x = inputs[t];
      const [r, u, c, hNew] = runOp('GRUBlockCell', [x, h, this.wRu, this.wC, this.bRu, this.bC], FLOAT, 4) as tf.Tensor2D[];
      xs.push(x);
      gates.push([r, u, c]);
      hs.push(hNew);
      h = hNew;
    }
    const outputs = stackSteps(hs);
    return { outputs, state: [h], saved: { input, xs, gates, h0, hs, outputs, steps } };
  }

  backward(outputGradient: tf.Tensor2D, saved: unknown): WeightGradients {
    const { input, xs, gates, h0, hs, outputs, steps } = saved as {
      input: tf.Tensor2D;
      xs: tf.Tensor2D[];
      gates: tf.Tensor2D[][];
      h0: tf.Tensor2D;
      hs: tf.Tensor2D[];
      outputs: tf.Tensor2D;
      steps: number;
    };
    const dX: tf.Tensor2D[] = new Array(steps);
    const dRu: tf.Tensor2D[] = new Array(steps);
    const dC: tf.Tensor2D[] = new Array(steps);
    const dhs = stepRows(outputGradient, steps);
    let carried: tf.Tensor2D | undefined;
    for (let t = steps - 1; t >= 0; t--) {
      const total = carried ? add(dhs[t], carried) : dhs[t];
      const [r, u, c] = gates[t];
      const hPrevious = t > 0 ? hs[t - 1] : h0;
      const [dx, dhPrevious, dcBar, druBar] = runOp('GRUBlockCellGrad', [xs[t], hPrevious, this.wRu, this.wC, this.bRu, this.bC, r, u, c, total], FLOAT, 4) as tf.Tensor2D[];
      dX[t] = dx;
      dRu[t] = druBar;
      dC[t] = dcBar;
      carried = dhPrevious;
    }
    const hPrevious = previousStates(h0, outputs, steps);
    const r = stackSteps(gates.map(([gate]) => gate));
    const dru = stackSteps(dRu);
    const dc = stackSteps(dC);
    const inputSize = input.shape[1];
    const ru = splitWeightGradient(matMul(tf.concat([input, hPrevious], 1), dru, true, false), inputSize);
    const candidate = splitWeightGradient(matMul(tf.concat([input, tf.mul(r, hPrevious)], 1), dc, true, false), inputSize);
    // Back to the TF.js gate order z, r, ĥ (GRUBlockCell's r, u first).
    const toLayerOrder = (ruPart: tf.Tensor, candidatePart: tf.Tensor) => {
      const [dr, dz] = gateBlocks(ruPart, 2);
      return tf.concat([dz, dr, candidatePart], ruPart.rank - 1);
    };
    return {
      kernel: toLayerOrder(ru.kernel, candidate.kernel) as tf.Tensor2D,
      recurrentKernel: toLayerOrder(ru.recurrentKernel, candidate.recurrentKernel) as tf.Tensor2D,
      bias: toLayerOrder(tf.sum(dru, 0), tf.sum(dc, 0)) as tf.Tensor1D,
      input: stackSteps(dX),
    };
  }
}

/** TF.js/Keras LSTM (gates i, f, c, o; no peepholes) as TensorFlow's BlockLSTM (gates i, c, f, o). */
class NativeLstm implements NativeCell {
  private readonly w: tf.Tensor2D;
  private readonly b: tf.Tensor1D;
  private readonly noPeephole: tf.Tensor1D;

  constructor(
    weights: RecurrentWeights,
    private readonly units: number,
  ) {
    this.w = toBlockOrder(tf.concat([weights.kernel, weights.recurrentKernel], 0)) as tf.Tensor2D;
    this.b = toBlockOrder(weights.bias) as tf.Tensor1D;
    this.noPeephole = tf.zeros([units]);
  }

  initialState(batch: number): LayerState {
    return [zeroState(batch, this.units), zeroState(batch, this.units)];
  }

  forward(input: tf.Tensor2D, steps: number, [h0, c0]: LayerState): NativeRun {
    const batch = h0.shape[0];
    const x = tf.reshape(input, [steps, batch, input.shape[1]]);
    const p = this.noPeephole;
    // forget_bias 0: the layer's own bias already holds it (unitForgetBias); cell_clip < 0: none.
    const [i, cs, f, o, ci, co, h] = runOp('BlockLSTM', [int64(steps), x, c0, h0, this.w, p, p, p, this.b], { forget_bias: { float: 0 }, cell_clip: { float: -1 }, use_peephole: false, ...FLOAT }, 7);
    const last = (sequence: tf.Tensor) => tf.reshape(tf.slice(sequence, [steps - 1, 0, 0], [1, batch, this.units]), [batch, this.units]) as tf.Tensor2D;
    return {
      outputs: tf.reshape(h, [steps * batch, this.units]),
      state: [last(h), last(cs)],
      saved: { x, h0, c0, steps, forward: [i, cs, f, o, ci, co, h] },
    };
  }

  /**
   * Step by step with LSTMBlockCellGrad (the gates' gradients, elementwise) and one matmul
   * for dL/dh₋₁; the weights' gradients are then one matmul over all rows. TensorFlow's
   * BlockLSTMGrad does the same in one op but accumulates the weight gradient step by step
   * in small products, which measured 3× slower at a batch of 8 and no faster at 32.
   */
  backward(outputGradient: tf.Tensor2D, saved: unknown): WeightGradients {
    const { x, h0, c0, steps, forward } = saved as { x: tf.Tensor3D; h0: tf.Tensor2D; c0: tf.Tensor2D; steps: number; forward: tf.Tensor[] };
    const [batch, units] = h0.shape;
    const inputSize = x.shape[2];
    const p = this.noPeephole;
    const [i, cs, f, o, ci, co, h] = forward.map((sequence) => unstack(sequence, steps));
    const xs = unstack(x, steps);
    const dhs = stepRows(outputGradient, steps);
    const recurrentRowsTransposed = tf.transpose(tf.slice(this.w, [inputSize, 0], [units, 4 * units]));
    const dGates: tf.Tensor[] = new Array(steps);
    let dhCarried: tf.Tensor | undefined;
    let dcsCarried: tf.Tensor = tf.zeros([batch, units]);
    for (let t = steps - 1; t >= 0; t--) {
      const dh = dhCarried ? add(dhs[t], dhCarried) : dhs[t];
      const csPrevious = t > 0 ? cs[t - 1] : c0;
      const hPrevious = t > 0 ? h[t - 1] : h0;
      const [dcsPrevious, dicfo] = runOp('LSTMBlockCellGrad', [xs[t], csPrevious, hPrevious, this.w, p, p, p, this.b, i[t], cs[t], f[t], o[t], ci[t], co[t], dcsCarried, dh], { use_peephole: false, ...FLOAT }, 5);
      dGates[t] = dicfo;
      dcsCarried = dcsPrevious;
      if (t > 0) dhCarried = matMul(dicfo, recurrentRowsTransposed);
    }
    const dicfo = tf.concat(dGates, 0) as tf.Tensor2D;
    const input = tf.reshape(x, [steps * batch, inputSize]) as tf.Tensor2D;
    const inputsAndStates = tf.concat([input, previousStates(h0, tf.reshape(forward[6], [steps * batch, units]) as tf.Tensor2D, steps)], 1);
    const inputRows = tf.slice(this.w, [0, 0], [inputSize, 4 * units]);
    return {
      ...splitWeightGradient(fromBlockOrder(matMul(inputsAndStates, dicfo, true, false)) as tf.Tensor2D, inputSize),
      bias: fromBlockOrder(tf.sum(dicfo, 0)) as tf.Tensor1D,
      input: matMul(dicfo, inputRows, false, true),
    };
  }
}

/** TF.js' LSTM gate blocks (i, f, c, o) in BlockLSTM's order (i, c, f, o), and back. */
function toBlockOrder(x: tf.Tensor): tf.Tensor {
  const [i, f, c, o] = gateBlocks(x, 4);
  return tf.concat([i, c, f, o], x.rank - 1);
}
function fromBlockOrder(x: tf.Tensor): tf.Tensor {
  const [i, c, f, o] = gateBlocks(x, 4);
  return tf.concat([i, f, c, o], x.rank - 1);
}
