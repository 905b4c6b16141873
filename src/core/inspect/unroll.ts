/**
 * A reference forward pass of a trained model, one timestep at a time, in plain TF.js ops
 * from the model's own weights (ModelParts): Embedding → recurrent layer(s) → Dense
 * logits, in inference mode (no dropout). It is slow next to the fast path and meant for
 * looking inside: it keeps every step's state and gate activations, and every op is on
 * TF.js' gradient tape, so `tf.grads` can differentiate through time.
 *
 * The formulas are the stock TF.js layers' (Keras' defaults as `buildModel` sets them):
 *
 *   SimpleRNN  h' = tanh(x·W + h·U + b)
 *   GRU        (TF.js' variant, Keras' reset_after = false; blocks of W, U, b in order z, r, h)
 *              z = σ(x·W_z + h·U_z + b_z)              update gate
 *              r = σ(x·W_r + h·U_r + b_r)              reset gate
 *              ĥ = tanh(x·W_h + (r∘h)·U_h + b_h)       candidate
 *              h' = z∘h + (1 − z)∘ĥ
 *   LSTM       (blocks in Keras' order i, f, g, o)
 *              i = σ(zᵢ)  f = σ(z_f)  g = tanh(z_g)  o = σ(z_o),  where z = x·W + h·U + b
 *              c' = f∘c + i∘g;  h' = o∘tanh(c')
 *
 * Gates, by the names used in `UnrolledLayer.gates` (and GATE_NAMES, in this order):
 *   rnn   none (the state h is all there is)
 *   gru   update (z), reset (r), candidate (ĥ)
 *   lstm  input (i), forget (f), candidate (g, the cell candidate), output (o);
 *         the cell state c is in `UnrolledLayer.c`
 * Every gate and state tensor is [batch, units], one per step.
 *
 * Perturbations: `perturbations[layer][step]` ([batch, units], or undefined for none) is
 * added to that layer's h right after the step computes it, before anything reads it (the
 * next step, the layer above, the logits). The differentiated quantity is therefore h
 * alone, with the LSTM's c held as it was: `tf.grads` of a step's loss with respect to zero
 * perturbations gives dL_t/dh_s for every step s in one backward pass.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellType } from '../../protocol/types';
import type { ModelParts, RecurrentWeights } from '../model';

/** Names of each cell's gates, in the order of their weight blocks. */
export const GATE_NAMES = {
  rnn: [],
  gru: ['update', 'reset', 'candidate'],
  lstm: ['input', 'forget', 'candidate', 'output'],
} as const satisfies Record<CellType, readonly string[]>;

export type GateName = (typeof GATE_NAMES)[CellType][number];

/** One recurrent layer's trace: per step, in time order. */
export interface UnrolledLayer {
  /** h after each step (perturbation included), [batch, units] each. */
  h: tf.Tensor2D[];
  /** The LSTM's cell state after each step; undefined for the other cells. */
  c?: tf.Tensor2D[];
  /** Each gate's activation at each step, by name (see GATE_NAMES). */
  gates: Partial<Record<GateName, tf.Tensor2D[]>>;
}

export interface Unrolled {
  cell: CellType;
  batch: number;
  steps: number;
  layers: UnrolledLayer[];
  /** Logits [batch, vocab] of the prediction made after reading step `step`'s token. */
  logitsAt(step: number): tf.Tensor2D;
  /** Logits of every step, [batch, steps, vocab]. */
  logits(): tf.Tensor3D;
}

export interface UnrollOptions {
  /** Per layer, per step: added to h after the step (see the module comment). */
  perturbations?: (tf.Tensor2D | undefined)[][];
  /** Every layer's starting state ([h] or, for LSTM, [h, c]); zero when not given. */
  initial?: tf.Tensor2D[][];
}

/**
 * Runs `windows` (token ids, [batch, steps] row-major, or the tensor) through the model.
 * The tensors it returns belong to the caller (use inside tf.tidy).
 */
export function unroll(parts: ModelParts, windows: tf.Tensor2D | { ids: Int32Array; batch: number; steps: number }, options: UnrollOptions = {}): Unrolled {
  const ids = windows instanceof tf.Tensor ? windows : tf.tensor2d(windows.ids, [windows.batch, windows.steps], 'int32');
  const [batch, steps] = ids.shape;
  // Time-major lookup: one gather, then one [batch, embedding] input per step.
  let inputs = tf.unstack(tf.gather(parts.embeddings, tf.transpose(ids))) as tf.Tensor2D[];
  const layers: UnrolledLayer[] = [];
  parts.recurrent.forEach((weights, l) => {
    const start = options.initial?.[l] ?? startState(parts.cell, batch, parts.units);
    const layer = unrollLayer(parts.cell, weights, parts.units, inputs, start, options.perturbations?.[l] ?? []);
    layers.push(layer);
    inputs = layer.h;
  });
  const top = layers[layers.length - 1].h;
  const logitsAt = (step: number) => tf.add(tf.matMul(top[step], parts.outputKernel), parts.outputBias) as tf.Tensor2D;
  return {
    cell: parts.cell,
    batch,
    steps,
    layers,
    logitsAt,
    logits: () => tf.stack(top.map((_, t) => logitsAt(t)), 1) as tf.Tensor3D,
  };
}

function startState(cell: CellType, batch: number, units: number): tf.Tensor2D[] {
  const zeros = tf.zeros([batch, units]) as tf.Tensor2D;
  return cell === 'lstm' ? [zeros, zeros] : [zeros];
}

function unrollLayer(
  cell: CellType,
  weights: RecurrentWeights,
  units: number,
  inputs: tf.Tensor2D[],
  start: tf.Tensor2D[],
  perturbations: (tf.Tensor2D | undefined)[],
): UnrolledLayer {
  const step = STEPS[cell](weights, units);
  const layer: UnrolledLayer = { h: [], gates: {}, ...(cell === 'lstm' ? { c: [] } : {}) };
  let [h, c] = start;
  inputs.forEach((x, t) => {
    const out = step(x, h, c);
    const delta = perturbations[t];
    h = delta ? tf.add(out.h, delta) : out.h;
    c = out.c!;
    layer.h.push(h);
    if (out.c) layer.c!.push(out.c);
    for (const [name, value] of Object.entries(out.gates) as [GateName, tf.Tensor2D][]) (layer.gates[name] ??= []).push(value);
  });
  return layer;
}

interface StepResult {
  h: tf.Tensor2D;
  c?: tf.Tensor2D;
  gates: Partial<Record<GateName, tf.Tensor2D>>;
}

type Step = (x: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D | undefined) => StepResult;

/** Column block `index` (of width `units`) of a [rows, blocks·units] matrix. */
function block(matrix: tf.Tensor2D, index: number, units: number): tf.Tensor2D {
  return tf.slice(matrix, [0, index * units], [-1, units]);
}

const STEPS: Record<CellType, (weights: RecurrentWeights, units: number) => Step> = {
  rnn: ({ kernel, recurrentKernel, bias }) => (x, h) => ({
    h: tf.tanh(tf.add(tf.add(tf.matMul(x, kernel), tf.matMul(h, recurrentKernel)), bias)) as tf.Tensor2D,
    gates: {},
  }),
  gru: ({ kernel, recurrentKernel, bias }, units) => {
    const gateKernel = tf.slice(recurrentKernel, [0, 0], [units, 2 * units]) as tf.Tensor2D;
    const candidateKernel = block(recurrentKernel, 2, units);
    return (x, h) => {
      const projected = tf.add(tf.matMul(x, kernel), bias) as tf.Tensor2D;
      const recurrent = tf.matMul(h, gateKernel) as tf.Tensor2D;
      const update = tf.sigmoid(tf.add(block(projected, 0, units), block(recurrent, 0, units))) as tf.Tensor2D;
      const reset = tf.sigmoid(tf.add(block(projected, 1, units), block(recurrent, 1, units))) as tf.Tensor2D;
      const candidate = tf.tanh(tf.add(block(projected, 2, units), tf.matMul(tf.mul(reset, h), candidateKernel))) as tf.Tensor2D;
      const hNew = tf.add(tf.mul(update, h), tf.mul(tf.sub(1, update), candidate)) as tf.Tensor2D;
      return { h: hNew, gates: { update, reset, candidate } };
    };
  },
  lstm: ({ kernel, recurrentKernel, bias }, units) => (x, h, c) => {
    const z = tf.add(tf.add(tf.matMul(x, kernel), tf.matMul(h, recurrentKernel)), bias) as tf.Tensor2D;
    const input = tf.sigmoid(block(z, 0, units)) as tf.Tensor2D;
    const forget = tf.sigmoid(block(z, 1, units)) as tf.Tensor2D;
    const candidate = tf.tanh(block(z, 2, units)) as tf.Tensor2D;
    const output = tf.sigmoid(block(z, 3, units)) as tf.Tensor2D;
    const cNew = tf.add(tf.mul(forget, c!), tf.mul(input, candidate)) as tf.Tensor2D;
    return { h: tf.mul(output, tf.tanh(cNew)) as tf.Tensor2D, c: cNew, gates: { input, forget, candidate, output } };
  },
};
