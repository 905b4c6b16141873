/**
 * SIMD twins of the array kernels: the softmax inside loss.ts, the tiled transpose of
 * layout.ts, the Adam update and the sum of squares of adam.ts.
 */
import type { ExportedFunction, Local } from './encoder';
import { forRange, newFunction, product, sum } from './dsl';

/**
 * softmax_rows(logits, rows, vocab, out, rowMax, rowSum, scale): per row, the max, the sum
 * of e^(logit − max) and, when `out` is not 0, out = scale · softmax. The logarithm for
 * the loss is taken in JavaScript (WebAssembly has none), once per row.
 */
function softmaxRows(): ExportedFunction {
  const { b, p, v } = newFunction(7, 1);
  const [logits, rows, vocab, out, rowMax, rowSum, scale] = p;
  const row = b.local('i32');
  const at = b.local('i32');
  const rowBytes = product(b, vocab, 4);
  // Whole vectors up to here, then one number at a time (vocabularies are any size).
  const vectorBytes = b.local('i32');
  b.get(vocab).i32Const(-4).i32And().i32Const(4).i32Mul().set(vectorBytes);
  const max = b.local('f32');
  const total = b.local('f32');
  const reduce = (local: Local, combine: () => void) => {
    b.get(local).f32x4ExtractLane(0);
    for (let lane = 1; lane < 4; lane++) {
      b.get(local).f32x4ExtractLane(lane);
      combine();
    }
  };
  forRange(b, row, 0, rows, 1, () => {
    const l0 = sum(b, logits, product(b, row, rowBytes));
    const o0 = sum(b, out, product(b, row, rowBytes));
    const best = v.constant(-Infinity);
    forRange(b, at, 0, vectorBytes, 16, () => {
      b.get(best).get(sum(b, l0, at)).v128Load().f32x4Pmax().set(best);
    });
    reduce(best, () => b.f32Max());
    b.set(max);
    forRange(b, at, vectorBytes, rowBytes, 4, () => {
      b.get(max).get(sum(b, l0, at)).f32Load().f32Max().set(max);
    });
    const shift = v.splat(max);
    const acc = v.constant(0);
    forRange(b, at, 0, vectorBytes, 16, () => {
      const e = v.exp(v.sub(v.load(sum(b, l0, at)), shift));
      b.get(acc).get(e).f32x4Add().set(acc);
      b.get(out).if_();
      v.store(sum(b, o0, at), e);
      b.end();
    });
    reduce(acc, () => b.f32Add());
    b.set(total);
    forRange(b, at, vectorBytes, rowBytes, 4, () => {
      const e = v.exp(v.sub(v.local(() => b.get(sum(b, l0, at)).f32Load().f32x4Splat()), shift));
      b.get(total).get(e).f32x4ExtractLane(0).f32Add().set(total);
      b.get(out).if_();
      b.get(sum(b, o0, at)).get(e).f32x4ExtractLane(0).f32Store();
      b.end();
    });
    b.get(rowMax).get(row).i32Const(4).i32Mul().i32Add().get(max).f32Store();
    b.get(rowSum).get(row).i32Const(4).i32Mul().i32Add().get(total).f32Store();
    b.get(out).if_();
    const factor = b.local('f32');
    b.get(scale).get(total).f32Div().set(factor);
    const factors = v.splat(factor);
    forRange(b, at, 0, vectorBytes, 16, () => {
      const address = sum(b, o0, at);
      v.store(address, v.mul(v.load(address), factors));
    });
    forRange(b, at, vectorBytes, rowBytes, 4, () => {
      const address = sum(b, o0, at);
      b.get(address).get(address).f32Load().get(factor).f32Mul().f32Store();
    });
    b.end();
  });
  return { name: 'softmax_rows', builder: b };
}

/**
 * transpose(src, rows, cols, srcStride, dst, dstStride): dst[c][r] = src[r][c] for rows and
 * cols multiples of 4, in 4×4 tiles turned by eight lane shuffles. Strides in floats. Rows
 * go in bands of 16 so that each destination row receives a whole cache line per band.
 */
function transpose(): ExportedFunction {
  const { b, p } = newFunction(6);
  const [src, rows, cols, srcStride, dst, dstStride] = p;
  const band = b.local('i32');
  const bandEnd = b.local('i32');
  const r = b.local('i32');
  const c = b.local('i32');
  const srcRow = product(b, srcStride, 4);
  const dstRow = product(b, dstStride, 4);
  const loads = [0, 1, 2, 3].map(() => b.local('v128'));
  forRange(b, band, 0, rows, 16, () => {
    b.get(band).i32Const(16).i32Add().set(bandEnd);
    b.get(bandEnd).get(rows).i32GtU().if_().get(rows).set(bandEnd).end();
    forRange(b, c, 0, cols, 4, () => {
      forRange(b, r, band, bandEnd, 4, () => {
        // Rows r…r+3, columns c…c+3 of src.
        const s0 = sum(b, src, product(b, sum(b, product(b, r, srcStride), c), 4));
        loads.forEach((load, k) => b.get(s0).get(srcRow).i32Const(k).i32Mul().i32Add().v128Load().set(load));
        const [a, bb, cc, d] = loads;
        // Interleave pairs of rows, then pairs of pairs: lane k of output j is row k, column j.
        const t = [
          [a, bb, [0, 4, 1, 5]],
          [a, bb, [2, 6, 3, 7]],
          [cc, d, [0, 4, 1, 5]],
          [cc, d, [2, 6, 3, 7]],
        ].map(([x, y, lanes]) => {
          const out = b.local('v128');
          b.get(x as Local).get(y as Local).shuffle32(lanes as number[]).set(out);
          return out;
        });
        const columns = [
          [t[0], t[2], [0, 1, 4, 5]],
          [t[0], t[2], [2, 3, 6, 7]],
          [t[1], t[3], [0, 1, 4, 5]],
          [t[1], t[3], [2, 3, 6, 7]],
        ];
        const d0 = sum(b, dst, product(b, sum(b, product(b, c, dstStride), r), 4));
        columns.forEach(([x, y, lanes], k) => {
          b.get(d0).get(dstRow).i32Const(k).i32Mul().i32Add();
          b.get(x as Local).get(y as Local).shuffle32(lanes as number[]).v128Store();
        });
      });
    });
  });
  return { name: 'transpose', builder: b };
}

/**
 * adam(w, g, m, v, wNew, mNew, vNew, count, scale, beta1, beta2, step, rootCorrection,
 * epsilon): the update of adam.ts for a count that is a multiple of 4.
 */
function adam(): ExportedFunction {
  const { b, p, v } = newFunction(14, 6);
  const [w, g, m, vv, wNew, mNew, vNew, count] = p;
  const [scale, beta1, beta2, step, rootCorrection, epsilon] = p.slice(8).map((s) => v.splat(s));
  const oneMinus1 = v.sub(v.constant(1), beta1);
  const oneMinus2 = v.sub(v.constant(1), beta2);
  const at = b.local('i32');
  const bytes = product(b, count, 4);
  forRange(b, at, 0, bytes, 16, () => {
    const gi = v.mul(v.load(sum(b, g, at)), scale);
    const mi = v.mulAdd(beta1, v.load(sum(b, m, at)), v.mul(oneMinus1, gi));
    const vi = v.mulAdd(beta2, v.load(sum(b, vv, at)), v.mul(v.mul(oneMinus2, gi), gi));
    v.store(sum(b, mNew, at), mi);
    v.store(sum(b, vNew, at), vi);
    const update = v.div(v.mul(step, mi), v.mulAdd(v.sqrt(vi), rootCorrection, epsilon));
    v.store(sum(b, wNew, at), v.sub(v.load(sum(b, w, at)), update));
  });
  return { name: 'adam', builder: b };
}

/** sum_of_squares(x, count, out): out[0] += Σ x² over `count` floats (a multiple of 4). */
function sumOfSquares(): ExportedFunction {
  const { b, p, v } = newFunction(3);
  const [x, count, out] = p;
  const at = b.local('i32');
  const bytes = product(b, count, 4);
  const acc = v.constant(0);
  forRange(b, at, 0, bytes, 16, () => {
    const value = v.load(sum(b, x, at));
    b.get(acc).get(value).get(value).f32x4Mul().f32x4Add().set(acc);
  });
  b.get(out).get(out).f32Load();
  for (let lane = 0; lane < 4; lane++) b.get(acc).f32x4ExtractLane(lane).f32Add();
  b.f32Store();
  return { name: 'sum_of_squares', builder: b };
}

/**
 * scatter_rows(src, dst, from, to, weights, count, size, skipZeroRows): dst[to[k]] +=
 * weights[k] · src[from[k]] for k < count, over rows of `size` floats (a multiple of 4): a
 * sparse matrix times a dense one, one nonzero at a time. `from`, `to` (i32) and `weights`
 * (f32) are addresses. With `skipZeroRows`, a source row whose bits are all zero adds
 * nothing and is passed over; it is checked once per run of nonzeros with the same `from`.
 */
function scatterRows(): ExportedFunction {
  const { b, p, v } = newFunction(8);
  const [src, dst, from, to, weights, count, size, skipZeroRows] = p;
  const k = b.local('i32');
  const at = b.local('i32');
  const source = b.local('i32');
  const lastSource = b.local('i32');
  const rowIsZero = b.local('i32');
  const srcRow = b.local('i32');
  const dstRow = b.local('i32');
  const weight = b.local('v128');
  const bits = b.local('v128');
  const rowBytes = product(b, size, 4);
  const end = product(b, count, 4);
  b.i32Const(-1).set(lastSource);
  forRange(b, k, 0, end, 4, () => {
    b.get(from).get(k).i32Add().i32Load().set(source);
    b.get(source).get(rowBytes).i32Mul().get(src).i32Add().set(srcRow);
    b.get(skipZeroRows).get(source).get(lastSource).i32Ne().i32And().if_();
    b.get(source).set(lastSource);
    b.i32x4Const(0).set(bits);
    forRange(b, at, 0, rowBytes, 16, () => {
      b.get(bits).get(sum(b, srcRow, at)).v128Load().v128Or().set(bits);
    });
    b.get(bits).v128AnyTrue().i32Eqz().set(rowIsZero);
    b.end();
    b.get(skipZeroRows).get(rowIsZero).i32And().i32Eqz().if_();
    b.get(to).get(k).i32Add().i32Load().get(rowBytes).i32Mul().get(dst).i32Add().set(dstRow);
    b.get(weights).get(k).i32Add().f32Load().f32x4Splat().set(weight);
    forRange(b, at, 0, rowBytes, 16, () => {
      const target = sum(b, dstRow, at);
      v.store(target, v.mulAdd(weight, v.load(sum(b, srcRow, at)), v.load(target)));
    });
    b.end();
  });
  return { name: 'scatter_rows', builder: b };
}

/**
 * subtract_scaled_rows(dst, rows, cols, vector, shares, columns, scale): dst[r, j] −= scale ·
 * shares[r] · vector[j] for every row of a [rows, cols] matrix and j < `columns` (a
 * multiple of 4, at most cols; the caller does the rest). `shares` (f32) is an address.
 */
function subtractScaledRows(): ExportedFunction {
  const { b, p, v } = newFunction(7, 1);
  const [dst, rows, cols, vector, shares, columns, scale] = p;
  const row = b.local('i32');
  const at = b.local('i32');
  const rowBytes = product(b, cols, 4);
  const bytes = product(b, columns, 4);
  forRange(b, row, 0, rows, 1, () => {
    const start = sum(b, dst, product(b, row, rowBytes));
    const share = v.local(() => b.get(shares).get(row).i32Const(4).i32Mul().i32Add().f32Load().get(scale).f32Mul().f32x4Splat());
    forRange(b, at, 0, bytes, 16, () => {
      const target = sum(b, start, at);
      v.store(target, v.sub(v.load(target), v.mul(share, v.load(sum(b, vector, at)))));
    });
  });
  return { name: 'subtract_scaled_rows', builder: b };
}

export const ARRAY_FUNCTIONS = [softmaxRows, transpose, adam, sumOfSquares, scatterRows, subtractScaledRows];

export interface ArrayKernels {
  softmax_rows(logits: number, rows: number, vocab: number, out: number, rowMax: number, rowSum: number, scale: number): void;
  transpose(src: number, rows: number, cols: number, srcStride: number, dst: number, dstStride: number): void;
  adam(w: number, g: number, m: number, v: number, wNew: number, mNew: number, vNew: number, count: number, scale: number, beta1: number, beta2: number, step: number, rootCorrection: number, epsilon: number): void;
  sum_of_squares(x: number, count: number, out: number): void;
  scatter_rows(src: number, dst: number, from: number, to: number, weights: number, count: number, size: number, skipZeroRows: number): void;
  subtract_scaled_rows(dst: number, rows: number, cols: number, vector: number, shares: number, columns: number, scale: number): void;
}
