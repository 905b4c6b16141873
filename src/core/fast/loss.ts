/**
 * Sparse softmax cross-entropy in one kernel: the loss, the accuracy counts and, for
 * training, the gradient of the mean loss w.r.t. the logits. The stock path spends ~8 ops
 * on the same (logSumExp, gather, and their gradients), each a pass over [N, vocab].
 */
import * as tf from '@tensorflow/tfjs';
import { UNKNOWN_ID } from '../tokenizer';
import { shiftTensors, type TargetShift } from '../distillation';
import { defineKernel, type View } from './kernel';
import { transposeInto } from './layout';
import { simdFor } from './wasm/simd';

export interface LossStats {
  /** Sum of the cross-entropy of every row, in nats. */
  lossSum: number;
  /** Rows whose target is a real word and the most likely one (<unk> left out of the ranking). */
  top1: number;
  /** Rows whose target is a real word among the five most likely (only when asked for). */
  top5: number;
}

/**
 * Inputs: logits [N, V], targets [N] (int32); with a teacher (distillation.ts) also its
 * shift of the targets (shiftTensors).
 * Outputs: [lossSum, top1, top5], each row's max logit and Σ e^(logit − max) [2, N]; with
 * `gradient` also dL/dlogits of the mean loss [N, V] and its transpose [V, N]. The transpose
 * lets the output kernel's gradient be a product whose right-hand side is the small
 * [N, units + 1] matrix: XNNPACK repacks a right-hand side on every call (~5 ns a number),
 * which costs more than transposing here.
 */
const lossKernel = defineKernel<{ gradient: number; top5: number }>({
  name: 'SoftmaxCrossEntropy',
  outputs: ([[rows, vocab]], { gradient }) => [
    { shape: [3] },
    { shape: [2, rows] },
    ...(gradient ? [{ shape: [rows, vocab] }, { shape: [vocab, rows] }] : []),
  ],
  run: ([logits, targets, ...shift], [stats, rowStats, dLogits, dLogitsTransposed], { gradient, top5 }, [[rows, vocab]]) => {
    const scale = 1 / rows;
    const maxima = rowStats.subarray(0, rows);
    const sums = rowStats.subarray(rows);
    const probabilities = gradient ? dLogits : undefined;
    const simd = simdFor(logits, rowStats, ...(probabilities ? [probabilities] : []));
    if (simd) simd.softmax_rows(logits.byteOffset, rows, vocab, probabilities?.byteOffset ?? 0, maxima.byteOffset, sums.byteOffset, scale);
    else softmaxRows(logits, rows, vocab, maxima, sums, probabilities, scale);
    let lossSum = 0;
    let hits1 = 0;
    let hits5 = 0;
    for (let r = 0; r < rows; r++) {
      const row = r * vocab;
      const target = targets[r];
      const logit = logits[row + target];
      lossSum += maxima[r] + Math.log(sums[r]) - logit;
      // Only a real word can be a hit: a suggestion never shows <unk>, so neither predicting
      // it nor having it as the target counts (id 0, skipped by the ranking).
      if (target !== UNKNOWN_ID) {
        // The full rank costs a pass over the row; it is only needed when the target is not
        // plainly the top logit, or when top-5 is asked for.
        const plainTop = logit === maxima[r] && firstIndexOf(logits, row + 1, target - 1, logit) === target - 1;
        const rank = plainTop ? 0 : top5 || logits[row + UNKNOWN_ID] === maxima[r] ? rankAmongWords(logits, row, vocab, target) : 1;
        if (rank === 0) hits1++;
        if (top5 && rank < 5) hits5++;
      }
      if (dLogits) dLogits[row + target] -= scale;
    }
    stats[0] = lossSum;
    stats[1] = hits1;
    stats[2] = hits5;
    if (dLogits && shift.length > 0) shiftTargets(dLogits, rows, vocab, shift, scale);
    if (dLogits) transposeInto(dLogits, 0, rows, vocab, dLogitsTransposed, 0, rows);
  },
});

/** The JavaScript twin of the SIMD softmax_rows (simd.ts), for backends other than wasm. */
function softmaxRows(logits: View, rows: number, vocab: number, maxima: View, sums: View, out: View | undefined, scale: number): void {
  for (let r = 0; r < rows; r++) {
    const row = r * vocab;
    let max = -Infinity;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits[row + j]);
    let sum = 0;
    for (let j = 0; j < vocab; j++) {
      const e = Math.exp(logits[row + j] - max);
      sum += e;
      if (out) out[row + j] = e;
    }
    maxima[r] = max;
    sums[r] = sum;
    if (out) for (let j = 0; j < vocab; j++) out[row + j] *= scale / sum;
  }
}

/** The gradient of the mean loss against the shifted targets: dLogits −= scale · shift. */
function shiftTargets(dLogits: View, rows: number, vocab: number, [lowestOrder, shares, entries, weights]: View[], scale: number): void {
  // Every row takes its share of the lowest-order distribution: a pass over [N, V], in SIMD
  // on wasm up to the last whole group of four columns.
  const simd = simdFor(dLogits, lowestOrder, shares);
  const vectorColumns = simd ? vocab - (vocab % 4) : 0;
  if (simd) simd.subtract_scaled_rows(dLogits.byteOffset, rows, vocab, lowestOrder.byteOffset, shares.byteOffset, vectorColumns, scale);
  for (let r = 0; r < rows; r++) {
    const share = scale * shares[r];
    const row = r * vocab;
    for (let j = vectorColumns; j < vocab; j++) dLogits[row + j] -= share * lowestOrder[j];
  }
  for (let k = 0; k < weights.length; k++) dLogits[entries[2 * k] * vocab + entries[2 * k + 1]] -= scale * weights[k];
}

function firstIndexOf(values: View, from: number, upTo: number, value: number): number {
  for (let j = 0; j < upTo; j++) if (values[from + j] === value) return j;
  return upTo;
}

/**
 * Rank of the target among the real words' logits (every id but UNKNOWN_ID), ties going to
 * the lower index as argMax and topk do.
 */
export function rankAmongWords(values: View, from: number, count: number, target: number): number {
  const value = values[from + target];
  let rank = 0;
  for (let j = 1; j < count; j++) {
    const v = values[from + j];
    if (v > value || (v === value && j < target)) rank++;
  }
  return rank;
}

/** Reads the three figures (outside any tidy: see DESIGN.md §3). */
export function readStats(stats: tf.Tensor): LossStats {
  const [lossSum, top1, top5] = stats.dataSync();
  return { lossSum, top1, top5 };
}

/** Loss and accuracy of logits [N, V] against targets, in inference. */
export function scoreLogits(logits: tf.Tensor2D, targets: tf.Tensor1D, withTop5: boolean): tf.Tensor1D {
  const [stats, rowStats] = lossKernel([logits, targets], { gradient: 0, top5: withTop5 ? 1 : 0 });
  rowStats.dispose();
  return stats as tf.Tensor1D;
}

export interface LossGradient {
  stats: tf.Tensor1D;
  /** dL/dlogits of the mean loss [N, V], and its transpose [V, N]. */
  dLogits: tf.Tensor2D;
  dLogitsTransposed: tf.Tensor2D;
}

/**
 * Loss, accuracy and the gradient of the mean loss w.r.t. the logits; with `shift`, the
 * gradient against the teacher's shifted targets (the loss figures stay the text's).
 */
export function lossGradient(logits: tf.Tensor2D, targets: tf.Tensor1D, shift?: TargetShift): LossGradient {
  const shifted = shift ? shiftTensors(shift) : [];
  const [stats, rowStats, dLogits, dLogitsTransposed] = lossKernel([logits, targets, ...shifted], { gradient: 1, top5: 0 });
  rowStats.dispose();
  return { stats: stats as tf.Tensor1D, dLogits: dLogits as tf.Tensor2D, dLogitsTransposed: dLogitsTransposed as tf.Tensor2D };
}
