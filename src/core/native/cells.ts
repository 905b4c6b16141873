/**
 * The three recurrent cells on native TensorFlow, forward and back, as graph ops (graph.ts)
 * on the same variables as the TF.js layers (kernel [in, G·U], recurrent kernel [U, G·U],
 * bias [G·U]).
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
import type { CellType } from '../../protocol/types';
import type { Graph, Sym } from './graph';

/** A layer's weights as graph values, in the TF.js layout. */
export interface GraphWeights {
  kernel: Sym;
  recurrentKernel: Sym;
  bias: Sym;
}

/** A layer's state: [h] or, for LSTM, [h, c], each [B, U]. */
export type GraphState = Sym[];

export interface GraphRun {
  /** h of every step, [N, U], time-major. */
  outputs: Sym;
  /** State after the last step. */
  state: GraphState;
  /** What `backward` needs. */
  saved: unknown;
}

export interface GraphGradients {
  kernel: Sym;
  recurrentKernel: Sym;
  bias: Sym;
  /** dL/d(layer input) [N, in]. */
  input: Sym;
}

export interface GraphCell {
  /** How many tensors a state of this cell is ([h] or [h, c]). */
  readonly stateSize: number;
  /** Runs the layer over time-major input [N, in] of `steps` steps from `state`. */
  forward(input: Sym, steps: number, state: GraphState): GraphRun;
  /** The gradients, given dL/dh of every step [N, U]. The initial state is a constant. */
  backward(outputGradient: Sym, saved: unknown): GraphGradients;
}

export function stateSize(cell: CellType): number {
  return cell === 'lstm' ? 2 : 1;
}

export function makeGraphCell(g: Graph, cell: CellType, weights: GraphWeights, units: number): GraphCell {
  switch (cell) {
    case 'rnn':
      return new GraphRnn(g, weights);
    case 'gru':
      return new GraphGru(g, weights, units);
    case 'lstm':
      return new GraphLstm(g, weights, units);
  }
}

/** Gate blocks of the TF.js layout [g₀ g₁ …] (each U wide) along the last axis. */
function gateBlocks(g: Graph, x: Sym, gates: number, units: number): Sym[] {
  return g.split(x, Array(gates).fill(units), x.shape.length - 1);
}

/** The rows of every step of a time-major [N, U] matrix, [B, U] each, in one op. */
function stepRows(g: Graph, x: Sym, steps: number): Sym[] {
  return g.unstack(g.reshape(x, [steps, x.shape[0] / steps, x.shape[1]]), steps);
}

/** [h₀; h₁ … h_{T−1}] shifted by one step: the state each step started from, [N, U]. */
function previousStates(g: Graph, initial: Sym, outputs: Sym, steps: number): Sym {
  const batch = initial.shape[0];
  return g.concat([initial, g.slice(outputs, [0, 0], [(steps - 1) * batch, outputs.shape[1]])], 0);
}

/** The kernel's and the recurrent kernel's gradients from [input, h₋₁]ᵀ·dZ. */
function splitWeightGradient(g: Graph, product: Sym, inputSize: number): { kernel: Sym; recurrentKernel: Sym } {
  const [kernel, recurrentKernel] = g.split(product, [inputSize, product.shape[0] - inputSize], 0);
  return { kernel, recurrentKernel };
}

/** h' = tanh(x·W + h·U + b), with x·W + b for all steps in one matmul. */
class GraphRnn implements GraphCell {
  readonly stateSize = 1;

  constructor(
    private readonly g: Graph,
    private readonly weights: GraphWeights,
  ) {}

  forward(input: Sym, steps: number, [h0]: GraphState): GraphRun {
    const { g } = this;
    const { kernel, recurrentKernel, bias } = this.weights;
    const projections = stepRows(g, g.add(g.matMul(input, kernel), bias), steps);
    const hs: Sym[] = [];
    let h = h0;
    for (let t = 0; t < steps; t++) {
      h = g.tanh(g.add(projections[t], g.matMul(h, recurrentKernel)));
      hs.push(h);
    }
    const outputs = g.concat(hs, 0);
    return { outputs, state: [h], saved: { input, h0, hs, outputs, steps } };
  }

  backward(outputGradient: Sym, saved: unknown): GraphGradients {
    const { g } = this;
    const { input, h0, hs, outputs, steps } = saved as { input: Sym; h0: Sym; hs: Sym[]; outputs: Sym; steps: number };
    const { kernel, recurrentKernel } = this.weights;
    const recurrentTransposed = g.transpose(recurrentKernel);
    const dZ: Sym[] = new Array(steps);
    const dhs = stepRows(g, outputGradient, steps);
    let carried: Sym | undefined;
    for (let t = steps - 1; t >= 0; t--) {
      const total = carried ? g.add(dhs[t], carried) : dhs[t];
      dZ[t] = g.tanhGrad(hs[t], total);
      if (t > 0) carried = g.matMul(dZ[t], recurrentTransposed);
    }
    const dz = g.concat(dZ, 0);
    const inputs = g.concat([input, previousStates(g, h0, outputs, steps)], 1);
    return {
      ...splitWeightGradient(g, g.matMul(inputs, dz, true, false), input.shape[1]),
      bias: g.sum(dz, [0]),
      input: g.matMul(dz, kernel, false, true),
    };
  }
}

/**
 * TF.js/Keras GRU (gates z, r, ĥ) as TensorFlow's GRUBlockCell, whose weights are
 * w_ru = [W; U] over the gates (r, u = z) and w_c = [W; U] of the candidate.
 */
class GraphGru implements GraphCell {
  readonly stateSize = 1;
  private readonly wRu: Sym;
  private readonly wC: Sym;
  private readonly bRu: Sym;
  private readonly bC: Sym;

  constructor(
    private readonly g: Graph,
    weights: GraphWeights,
    private readonly units: number,
  ) {
    const [kz, kr, kh] = gateBlocks(g, g.concat([weights.kernel, weights.recurrentKernel], 0), 3, units);
    const [bz, br, bh] = gateBlocks(g, weights.bias, 3, units);
    this.wRu = g.concat([kr, kz], 1);
    this.wC = kh;
    this.bRu = g.concat([br, bz], 0);
    this.bC = bh;
  }

  forward(input: Sym, steps: number, [h0]: GraphState): GraphRun {
    const { g, units } = this;
    const batch = h0.shape[0];
    const xs = stepRows(g, input, steps);
    const gates: Sym[][] = [];
    const hs: Sym[] = [];
    let h = h0;
    for (let t = 0; t < steps; t++) {
      const [r, u, c, hNew] = g.op('GRUBlockCell', [xs[t], h, this.wRu, this.wC, this.bRu, this.bC], { T: { type: 'float32' } }, Array(4).fill([batch, units]));
      gates.push([r, u, c]);
      hs.push(hNew);
      h = hNew;
    }
    const outputs = g.concat(hs, 0);
    return { outputs, state: [h], saved: { input, xs, gates, h0, hs, outputs, steps } };
  }

  backward(outputGradient: Sym, saved: unknown): GraphGradients {
    const { g, units } = this;
    const { input, xs, gates, h0, hs, outputs, steps } = saved as { input: Sym; xs: Sym[]; gates: Sym[][]; h0: Sym; hs: Sym[]; outputs: Sym; steps: number };
    const [batch, inputSize] = [h0.shape[0], input.shape[1]];
    const dX: Sym[] = new Array(steps);
    const dRu: Sym[] = new Array(steps);
    const dC: Sym[] = new Array(steps);
    const dhs = stepRows(g, outputGradient, steps);
    let carried: Sym | undefined;
    for (let t = steps - 1; t >= 0; t--) {
      const total = carried ? g.add(dhs[t], carried) : dhs[t];
      const [r, u, c] = gates[t];
      const hPrevious = t > 0 ? hs[t - 1] : h0;
      const shapes = [[batch, inputSize], [batch, units], [batch, units], [batch, 2 * units]];
      const [dx, dhPrevious, dcBar, druBar] = g.op('GRUBlockCellGrad', [xs[t], hPrevious, this.wRu, this.wC, this.bRu, this.bC, r, u, c, total], { T: { type: 'float32' } }, shapes);
      dX[t] = dx;
      dRu[t] = druBar;
      dC[t] = dcBar;
      carried = dhPrevious;
    }
    const hPrevious = previousStates(g, h0, outputs, steps);
    const r = g.concat(gates.map(([gate]) => gate), 0);
    const dru = g.concat(dRu, 0);
    const dc = g.concat(dC, 0);
    const ru = splitWeightGradient(g, g.matMul(g.concat([input, hPrevious], 1), dru, true, false), inputSize);
    const candidate = splitWeightGradient(g, g.matMul(g.concat([input, g.mul(r, hPrevious)], 1), dc, true, false), inputSize);
    // Back to the TF.js gate order z, r, ĥ (GRUBlockCell's r, u first).
    const toLayerOrder = (ruPart: Sym, candidatePart: Sym) => {
      const [dr, dz] = gateBlocks(g, ruPart, 2, units);
      return g.concat([dz, dr, candidatePart], ruPart.shape.length - 1);
    };
    return {
      kernel: toLayerOrder(ru.kernel, candidate.kernel),
      recurrentKernel: toLayerOrder(ru.recurrentKernel, candidate.recurrentKernel),
      bias: toLayerOrder(g.sum(dru, [0]), g.sum(dc, [0])),
      input: g.concat(dX, 0),
    };
  }
}

/** TF.js/Keras LSTM (gates i, f, c, o; no peepholes) as TensorFlow's BlockLSTM (gates i, c, f, o). */
class GraphLstm implements GraphCell {
  readonly stateSize = 2;
  private readonly w: Sym;
  private readonly b: Sym;
  private readonly noPeephole: Sym;

  constructor(
    private readonly g: Graph,
    weights: GraphWeights,
    private readonly units: number,
  ) {
    this.w = this.toBlockOrder(g.concat([weights.kernel, weights.recurrentKernel], 0));
    this.b = this.toBlockOrder(weights.bias);
    this.noPeephole = g.zeros([units]);
  }

  forward(input: Sym, steps: number, [h0, c0]: GraphState): GraphRun {
    const { g, units } = this;
    const batch = h0.shape[0];
    const x = g.reshape(input, [steps, batch, input.shape[1]]);
    const p = this.noPeephole;
    const sequence = [steps, batch, units];
    // forget_bias 0: the layer's own bias already holds it (unitForgetBias); cell_clip < 0: none.
    const attrs = { forget_bias: { float: 0 }, cell_clip: { float: -1 }, use_peephole: { bool: false }, T: { type: 'float32' } } as const;
    const forward = g.op('BlockLSTM', [g.constant([steps], [], 'int64'), x, c0, h0, this.w, p, p, p, this.b], attrs, Array(7).fill(sequence));
    const [, cs, , , , , h] = forward;
    const last = (s: Sym) => g.reshape(g.slice(s, [steps - 1, 0, 0], [1, batch, units]), [batch, units]);
    return {
      outputs: g.reshape(h, [steps * batch, units]),
      state: [last(h), last(cs)],
      saved: { x, h0, c0, steps, forward },
    };
  }

  /**
   * Step by step with LSTMBlockCellGrad (the gates' gradients, elementwise) and one matmul
   * for dL/dh₋₁; the weights' gradients are then one matmul over all rows. TensorFlow's
   * BlockLSTMGrad does the same in one op but accumulates the weight gradient step by step
   * in small products, which measured 3× slower at a batch of 8 and no faster at 32.
   */
  backward(outputGradient: Sym, saved: unknown): GraphGradients {
    const { g, units } = this;
    const { x, h0, c0, steps, forward } = saved as { x: Sym; h0: Sym; c0: Sym; steps: number; forward: Sym[] };
    const batch = h0.shape[0];
    const inputSize = x.shape[2];
    const p = this.noPeephole;
    const [i, cs, f, o, ci, co, h] = forward.map((sequence) => g.unstack(sequence, steps));
    const xs = g.unstack(x, steps);
    const dhs = stepRows(g, outputGradient, steps);
    const recurrentRowsTransposed = g.transpose(g.slice(this.w, [inputSize, 0], [units, 4 * units]));
    const dGates: Sym[] = new Array(steps);
    let dhCarried: Sym | undefined;
    let dcsCarried = g.zeros([batch, units]);
    const shapes = [[batch, units], [batch, 4 * units], [units], [units], [units]];
    for (let t = steps - 1; t >= 0; t--) {
      const dh = dhCarried ? g.add(dhs[t], dhCarried) : dhs[t];
      const csPrevious = t > 0 ? cs[t - 1] : c0;
      const hPrevious = t > 0 ? h[t - 1] : h0;
      const [dcsPrevious, dicfo] = g.op('LSTMBlockCellGrad', [xs[t], csPrevious, hPrevious, this.w, p, p, p, this.b, i[t], cs[t], f[t], o[t], ci[t], co[t], dcsCarried, dh], { use_peephole: { bool: false }, T: { type: 'float32' } }, shapes);
      dGates[t] = dicfo;
      dcsCarried = dcsPrevious;
      if (t > 0) dhCarried = g.matMul(dicfo, recurrentRowsTransposed);
    }
    const dicfo = g.concat(dGates, 0);
    const input = g.reshape(x, [steps * batch, inputSize]);
    const inputsAndStates = g.concat([input, previousStates(g, h0, g.reshape(forward[6], [steps * batch, units]), steps)], 1);
    const inputRows = g.slice(this.w, [0, 0], [inputSize, 4 * units]);
    return {
      ...splitWeightGradient(g, this.fromBlockOrder(g.matMul(inputsAndStates, dicfo, true, false)), inputSize),
      bias: this.fromBlockOrder(g.sum(dicfo, [0])),
      input: g.matMul(dicfo, inputRows, false, true),
    };
  }

  /** TF.js' LSTM gate blocks (i, f, c, o) in BlockLSTM's order (i, c, f, o), and back. */
  private toBlockOrder(x: Sym): Sym {
    const [i, f, c, o] = gateBlocks(this.g, x, 4, this.units);
    return this.g.concat([i, c, f, o], x.shape.length - 1);
  }

  private fromBlockOrder(x: Sym): Sym {
    const [i, c, f, o] = gateBlocks(this.g, x, 4, this.units);
    return this.g.concat([i, f, c, o], x.shape.length - 1);
  }
}
