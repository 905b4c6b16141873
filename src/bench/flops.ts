/**
 * The arithmetic a batch needs, counted as the matrix products of the model.
 *
 * For a batch of B windows of T tokens (N = B·T target tokens), a layer with input size I,
 * U units and G gate blocks (SimpleRNN 1, GRU 3, LSTM 4), and vocabulary V, the forward pass
 * multiplies
 *   N·I·G·U (input projection) + N·U·G·U (recurrence) per layer, and N·U·V (output layer).
 * Every forward product has two backward products of the same size (the gradient of its
 * input and of its weights), so a training batch is 3× the forward multiply-adds, and
 *   FLOPs = 2 × multiply-adds.
 * Elementwise work (activations, softmax, Adam) is not counted: it is small next to these
 * products and is what a fast implementation should hide.
 *
 * The same list of products, with their shapes, is what the backend's matmul rate is measured
 * on, so "share of the matmul rate" compares like with like.
 */
import type { CellType } from '../protocol/types';

export interface BenchShape {
  cell: CellType;
  vocabSize: number;
  embedding: number;
  units: number;
  layers: number;
  batch: number;
  seqLen: number;
}

/** A product [m, k]·[k, n], done `count` times per batch. */
export interface Product {
  m: number;
  k: number;
  n: number;
  count: number;
}

const GATES: Record<CellType, number> = { rnn: 1, gru: 3, lstm: 4 };

/** The recurrence's products of one timestep, as [k, n] with m = B (GRU: gates, then candidate). */
function recurrentParts(cell: CellType, units: number): [number, number][] {
  return cell === 'gru' ? [[units, 2 * units], [units, units]] : [[units, GATES[cell] * units]];
}

/** Products of the forward pass. */
export function forwardProducts(shape: BenchShape): Product[] {
  const { cell, vocabSize, embedding, units, layers, batch, seqLen } = shape;
  const n = batch * seqLen;
  const width = GATES[cell] * units;
  const products: Product[] = [];
  for (let l = 0; l < layers; l++) {
    products.push({ m: n, k: l === 0 ? embedding : units, n: width, count: 1 });
    for (const [k, cols] of recurrentParts(cell, units)) products.push({ m: batch, k, n: cols, count: seqLen });
  }
  products.push({ m: n, k: units, n: vocabSize, count: 1 });
  return products;
}

/** Products of a training step: the forward ones plus, for each, its input-gradient and weight-gradient products. */
export function trainingProducts(shape: BenchShape): Product[] {
  const n = shape.batch * shape.seqLen;
  return forwardProducts(shape).flatMap((p) => {
    // Per timestep products stay per timestep backwards (dh·Uᵀ); their weight gradient is
    // one product over all N rows.
    const weight = p.count > 1 ? { m: p.k, k: n, n: p.n, count: 1 } : { m: p.k, k: p.m, n: p.n, count: 1 };
    return [p, { m: p.m, k: p.n, n: p.k, count: p.count }, weight];
  });
}

export function flopsOf(products: Product[]): number {
  return products.reduce((sum, p) => sum + 2 * p.m * p.k * p.n * p.count, 0);
}
