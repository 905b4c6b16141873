/**
 * A sparse matrix times a dense one, as a list of nonzeros: out[to[k]] += weights[k] ·
 * rows[from[k]]. One op on every backend (the SIMD kernel on wasm), where TF.js would
 * gather a copy of every row a nonzero reads and then sum the copies by segment.
 */
import * as tf from '@tensorflow/tfjs';
import { defineKernel } from './kernel';
import { simdFor } from './wasm/simd';

/** The nonzeros of a sparse matrix [outRows, inRows]: entry k is weights[k] at (to[k], from[k]). */
export interface SparseRows {
  from: tf.Tensor1D;
  to: tf.Tensor1D;
  weights: tf.Tensor1D;
}

const scatterRowsKernel = defineKernel<{ outRows: number; skipZeroRows: number }>({
  name: 'ScatterRows',
  outputs: ([rows], { outRows }) => [{ shape: [outRows, rows[1]] }],
  run: ([rows, from, to, weights, base], [out], { skipZeroRows }, [shape]) => {
    const size = shape[1];
    if (base) out.set(base);
    else out.fill(0);
    const simd = size % 4 === 0 ? simdFor(rows, from, to, weights, out) : undefined;
    if (simd) return simd.scatter_rows(rows.byteOffset, out.byteOffset, from.byteOffset, to.byteOffset, weights.byteOffset, from.length, size, skipZeroRows);
    let checked = -1;
    let zero = false;
    for (let k = 0; k < from.length; k++) {
      if (skipZeroRows && from[k] !== checked) {
        checked = from[k];
        zero = rows.subarray(checked * size, (checked + 1) * size).every((value) => value === 0);
      }
      if (skipZeroRows && zero) continue;
      const source = from[k] * size;
      const target = to[k] * size;
      const weight = weights[k];
      for (let i = 0; i < size; i++) out[target + i] += weight * rows[source + i];
    }
  },
});

/**
 * The product [outRows, size] of the sparse matrix `matrix` with `rows` [inRows, size].
 * With `skipZeroRows` the rows of zeros are found and passed over, which pays where most
 * are zero (the embeddings' gradient of a sampled step) and the nonzeros come in runs of
 * the same row.
 */
export function scatterRows(rows: tf.Tensor2D, matrix: SparseRows, outRows: number, skipZeroRows = false): tf.Tensor2D {
  const [out] = scatterRowsKernel([rows, matrix.from, matrix.to, matrix.weights], { outRows, skipZeroRows: skipZeroRows ? 1 : 0 });
  return out as tf.Tensor2D;
}

/** `base` + the product of `matrix` with `rows`, in one pass: no product to add afterwards. */
export function addScatteredRows(base: tf.Tensor2D, rows: tf.Tensor2D, matrix: SparseRows): tf.Tensor2D {
  const [out] = scatterRowsKernel([rows, matrix.from, matrix.to, matrix.weights, base], { outRows: base.shape[0], skipZeroRows: 0 });
  return out as tf.Tensor2D;
}
