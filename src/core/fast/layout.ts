/**
 * Kernels that move numbers between layouts: transposes, and gathering the per-timestep
 * tensors of a recurrence into the big time-major matrices that the matmuls work on.
 *
 * The matmuls of the fast path never transpose: on wasm only `a·b` with neither operand
 * transposed runs on XNNPACK (~23 GFLOP/s); a transposed operand falls back to a plain
 * loop (~1.7 GFLOP/s). So every `aᵀ·b` of the backward pass gets its `aᵀ` written here,
 * usually as a by-product of a copy that had to happen anyway.
 *
 * Row layout everywhere: time-major, row `t·batch + b` is window `b` at timestep `t`, so
 * the rows of one timestep are contiguous.
 */
import * as tf from '@tensorflow/tfjs';
import { defineKernel, type View } from './kernel';
import type { Batch } from '../dataset';
import { simdFor } from './wasm/simd';
import { nativeBackendActive } from '../native/ops';

/** Square tile of the blocked transpose: keeps both sides in cache (measured best). */
const TILE = 16;

/**
 * Writes the transpose of the `rows × cols` matrix at `src[from…]` into `dst`, where
 * element (r, c) lands at `dst[to + c·stride + r]`.
 */
export function transposeInto(src: View, from: number, rows: number, cols: number, dst: View, to: number, stride: number): void {
  // On wasm the whole 4×4 tiles go through the SIMD kernel; the ragged edges (and, on
  // other backends, everything) through the loop.
  const simd = simdFor(src, dst);
  const rows4 = simd ? rows - (rows % 4) : 0;
  const cols4 = simd ? cols - (cols % 4) : 0;
  if (simd && rows4 > 0 && cols4 > 0) simd.transpose(src.byteOffset + 4 * from, rows4, cols4, cols, dst.byteOffset + 4 * to, stride);
  transposeTiles(src, from, cols, dst, to, stride, 0, rows4, cols4, cols);
  transposeTiles(src, from, cols, dst, to, stride, rows4, rows, 0, cols);
}

/** The loop version, for rows [r0, r1) and columns [c0, c1) of the matrix. */
function transposeTiles(src: View, from: number, cols: number, dst: View, to: number, stride: number, r0: number, r1: number, c0: number, c1: number): void {
  for (let rt = r0; rt < r1; rt += TILE) {
    const rEnd = Math.min(r1, rt + TILE);
    for (let ct = c0; ct < c1; ct += TILE) {
      const cEnd = Math.min(c1, ct + TILE);
      for (let c = ct; c < cEnd; c++) {
        const out = to + c * stride;
        for (let r = rt; r < rEnd; r++) dst[out + r] = src[from + r * cols + c];
      }
    }
  }
}

const transposeKernel = defineKernel<Record<string, never>>({
  name: 'Transpose2D',
  outputs: ([[rows, cols]]) => [{ shape: [cols, rows] }],
  run: ([x], [out], _, [[rows, cols]]) => transposeInto(x, 0, rows, cols, out, 0, rows),
});

/** `xᵀ` of a matrix; tf.transpose on wasm takes ~14 ms for a million numbers, this ~1 ms. */
export function transpose(x: tf.Tensor2D): tf.Tensor2D {
  return transposeKernel([x], {})[0] as tf.Tensor2D;
}

interface StackAttrs {
  [key: string]: number;
  steps: number;
  /** Dropout rate applied to the stacked output (0 = none). */
  rate: number;
  /** Seed of the dropout mask. */
  seed: number;
  /** The lanes of the whole batch these rows are (see LaneSpan): first, and how many in all. */
  laneFirst: number;
  laneTotal: number;
  /** 1 = also write what the backward pass needs (mask, gradient inputs). */
  training: number;
  /** 1 = also write the (masked) output with a column of ones after it. */
  withOnes: number;
}

/**
 * Inputs: the layer's input x [N, in] (training only), the step outputs h₀…h_{T−1}
 * [batch, units] each, and the initial state h₋₁ (training only).
 * Outputs: the output [N, units] (dropout applied when training), then when training
 * the mask [N, units] (if rate > 0), the output with a column of ones [N, units + 1] (if
 * asked: the output layer's gradient comes from dL/dlogitsᵀ times it, the bias's from the
 * ones), and A = [xᵀ; h₋₁…h_{T−2} transposed; ones] whose product with the gate gradients
 * [N, G·units] holds the layer's gradients: kernel, recurrent kernel (the GRU's z and r
 * part) and, from the row of ones, the bias (the column sums).
 */
const stackKernel = defineKernel<StackAttrs>({
  name: 'StackSteps',
  outputs: (shapes, { steps, rate, training, withOnes }) => {
    const [batch, units] = shapes[training ? 1 : 0];
    const n = steps * batch;
    const out = [{ shape: [n, units] }];
    if (!training) return out;
    const inputSize = shapes[0][1];
    if (rate > 0) out.push({ shape: [n, units] });
    if (withOnes) out.push({ shape: [n, units + 1] });
    out.push({ shape: [inputSize + units + 1, n] });
    return out;
  },
  run: (inputs, outputs, { steps, rate, seed, laneFirst, laneTotal, training, withOnes }, shapes) => {
    const first = training ? 1 : 0;
    const [batch, units] = shapes[first];
    const n = steps * batch;
    const block = batch * units;
    const [out] = outputs;
    for (let t = 0; t < steps; t++) out.set(inputs[first + t], t * block);
    if (!training) return;
    let next = 1;
    if (rate > 0) applyDropout(out, outputs[next++], rate, seed, units, { first: laneFirst, total: laneTotal, rows: batch });
    if (withOnes) {
      const extended = outputs[next++];
      for (let r = 0; r < n; r++) {
        extended.set(out.subarray(r * units, (r + 1) * units), r * (units + 1));
        extended[r * (units + 1) + units] = 1;
      }
    }
    const a = outputs[next];
    const inputSize = shapes[0][1];
    transposeInto(inputs[0], 0, n, inputSize, a, 0, n);
    // Row block of h_{t−1}: the state each step started from.
    const initial = inputs[first + steps];
    const hOffset = inputSize * n;
    for (let t = 0; t < steps; t++) {
      transposeInto(t === 0 ? initial : inputs[first + t - 1], 0, batch, units, a, hOffset + t * batch, n);
    }
    a.fill(1, (inputSize + units) * n);
  },
});

/** The per-step [batch, width] tensors stacked and transposed: [width, steps · batch]. */
const stackTransposedKernel = defineKernel<Record<string, never>>({
  name: 'StackTransposed',
  outputs: (shapes) => [{ shape: [shapes[0][1], shapes.length * shapes[0][0]] }],
  run: (inputs, [out], _, shapes) => {
    const [batch, width] = shapes[0];
    const n = inputs.length * batch;
    inputs.forEach((step, t) => transposeInto(step, 0, batch, width, out, t * batch, n));
  },
});

export function stackTransposed(steps: tf.Tensor2D[]): tf.Tensor2D {
  return stackTransposedKernel(steps, {})[0] as tf.Tensor2D;
}

interface DropoutAttrs {
  [key: string]: number;
  rate: number;
  seed: number;
  /** Lanes (rows per time step) of this batch, and where they sit in the whole batch. */
  lanes: number;
  laneFirst: number;
  laneTotal: number;
}

const dropoutKernel = defineKernel<DropoutAttrs>({
  name: 'Dropout',
  outputs: ([shape]) => [{ shape }, { shape }],
  run: ([x], [out, mask], { rate, seed, lanes, laneFirst, laneTotal }, [[, width]]) => {
    out.set(x);
    applyDropout(out, mask, rate, seed, width, { first: laneFirst, total: laneTotal, rows: lanes });
  },
});

/**
 * Inverted dropout of a time-major matrix [steps · lanes.rows, width]: the dropped-out
 * copy and the mask it used (to scale the gradient by).
 */
export function dropout(x: tf.Tensor2D, rate: number, seed: number, lanes: Lanes): { output: tf.Tensor2D; mask: tf.Tensor2D } {
  const [output, mask] = dropoutKernel([x], { rate, seed, lanes: lanes.rows, laneFirst: lanes.first, laneTotal: lanes.total }) as tf.Tensor2D[];
  return { output, mask };
}

/**
 * The lanes a time-major matrix holds: `rows` lanes per time step, which are lanes
 * first … first + rows − 1 of a batch of `total` (all of it, unless a data-parallel
 * trainer split the batch between threads).
 */
export interface Lanes {
  first: number;
  total: number;
  rows: number;
}

/** The lanes of a training batch: all of it, or the part a data-parallel thread trains. */
export function batchLanes(batch: Pick<Batch, 'rows' | 'part'>): Lanes {
  return { first: batch.part?.first ?? 0, total: batch.part?.total ?? batch.rows, rows: batch.rows };
}

/**
 * The inverted-dropout mask of a time-major matrix [steps · lanes.rows, width] into `mask`:
 * 0 with probability `rate`, else 1 / (1 − rate). Element c of lane r at step t draws
 * number (t · total + first + r) · width + c of the seed's mulberry32 stream, so a thread
 * that trains some lanes of a batch drops exactly what training the whole batch in one
 * thread drops there (mulberry32's state after n draws is seed + n · its step: any draw can
 * be computed directly), and every backend drops the same for the same seed.
 */
export function fillDropoutMask(mask: View, rate: number, seed: number, width: number, lanes: Lanes): void {
  const keep = 1 / (1 - rate);
  const rows = mask.length / width;
  for (let row = 0; row < rows; row++) {
    const step = Math.floor(row / lanes.rows);
    const wholeBatchRow = step * lanes.total + lanes.first + (row - step * lanes.rows);
    // mulberry32, as in random.ts, inlined: a call per element would cost more than the rest.
    let state = (seed + Math.imul(wholeBatchRow * width, MULBERRY_STEP)) >>> 0;
    for (let i = row * width; i < (row + 1) * width; i++) {
      state = (state + MULBERRY_STEP) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 15), z | 1);
      z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
      mask[i] = ((z ^ (z >>> 14)) >>> 0) / 4294967296 < rate ? 0 : keep;
    }
  }
}

/** Inverted dropout in place, with the mask of fillDropoutMask. */
function applyDropout(values: View, mask: View, rate: number, seed: number, width: number, lanes: Lanes): void {
  fillDropoutMask(mask, rate, seed, width, lanes);
  for (let i = 0; i < values.length; i++) values[i] *= mask[i];
}

const MULBERRY_STEP = 0x6d2b79f5;

export interface StackedSteps {
  /** [N, units]: the layer's output, dropout applied when training. */
  output: tf.Tensor2D;
  mask?: tf.Tensor2D;
  /** [N, units + 1]: see stackKernel. */
  outputWithOnes?: tf.Tensor2D;
  /** [in + units + 1, N]: see stackKernel. */
  gradientInputs?: tf.Tensor2D;
}

/** Stacks step outputs for inference: [N, units]. */
export function stackSteps(hs: tf.Tensor2D[]): tf.Tensor2D {
  return stackKernel(hs, { steps: hs.length, rate: 0, seed: 0, laneFirst: 0, laneTotal: 0, training: 0, withOnes: 0 })[0] as tf.Tensor2D;
}

/** Stacks step outputs for training; see stackKernel for what comes out. */
export function stackTrainingSteps(
  input: tf.Tensor2D,
  hs: tf.Tensor2D[],
  initial: tf.Tensor2D,
  options: { rate: number; seed: number; lanes: Lanes; withOnes: boolean },
): StackedSteps {
  const outputs = stackKernel([input, ...hs, initial], {
    steps: hs.length,
    rate: options.rate,
    seed: options.seed,
    laneFirst: options.lanes.first,
    laneTotal: options.lanes.total,
    training: 1,
    withOnes: options.withOnes ? 1 : 0,
  }) as tf.Tensor2D[];
  let next = 1;
  return {
    output: outputs[0],
    mask: options.rate > 0 ? outputs[next++] : undefined,
    outputWithOnes: options.withOnes ? outputs[next++] : undefined,
    gradientInputs: outputs[next],
  };
}

interface CropAttrs {
  [key: string]: number;
  row: number;
  col: number;
  rows: number;
  cols: number;
}

const cropKernel = defineKernel<CropAttrs>({
  name: 'Crop',
  outputs: (_, { rows, cols }) => [{ shape: [rows, cols] }],
  run: ([x], [out], { row, col, rows, cols }, [[, width]]) => {
    for (let r = 0; r < rows; r++) {
      const from = (row + r) * width + col;
      out.set(x.subarray(from, from + cols), r * cols);
    }
  },
});

/**
 * The block of `rows × cols` at (row, col) of a matrix. tf.slice on wasm first copies the
 * whole input out of the heap, which costs more than the slice for the blocks cut here.
 */
export function crop(x: tf.Tensor2D, row: number, col: number, rows: number, cols: number): tf.Tensor2D {
  return cropKernel([x], { row, col, rows, cols })[0] as tf.Tensor2D;
}

/** Rows `ids` of a table [V, E] → [N, E] (the embedding lookup; wasm's Gather walks it element by element). */
const gatherRowsKernel = defineKernel<Record<string, never>>({
  name: 'GatherRows',
  outputs: ([[, width], [count]]) => [{ shape: [count, width] }],
  run: ([table, ids], [out], _, [[rows, width]]) => {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(id >= 0 && id < rows)) throw new Error(`Token id ${id} is outside the vocabulary of ${rows}.`);
      out.set(table.subarray(id * width, (id + 1) * width), i * width);
    }
  },
});

/**
 * The rows `ids` of `table`. On native TensorFlow its own Gather (which also refuses ids
 * outside the table): the kernel above would copy the whole table out to read a few rows,
 * which took 10 s of a novel's suggestion fit reading text a few tokens at a time.
 */
export function gatherRows(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  if (nativeBackendActive()) return tf.gather(table, ids);
  return gatherRowsKernel([table, ids], {})[0] as tf.Tensor2D;
}

/** Time-major copy of row-major [rows, seqLen] windows: element (r, t) → t·rows + r. */
export function toTimeMajor(values: Int32Array, rows: number, seqLen: number): Int32Array {
  const out = new Int32Array(values.length);
  for (let r = 0; r < rows; r++) for (let t = 0; t < seqLen; t++) out[t * rows + r] = values[r * seqLen + t];
  return out;
}
