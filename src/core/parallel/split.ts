/** Splitting a training batch's lanes between the threads of a data-parallel step. */
import type { Batch } from '../dataset';

/** `parts` batches of consecutive lanes, as even as can be (the first ones get the extra lanes), none empty. */
export function splitBatch(batch: Batch, parts: number): Batch[] {
  const count = Math.min(parts, batch.rows);
  const split: Batch[] = [];
  let first = 0;
  for (let s = 0; s < count; s++) {
    const rows = Math.floor(batch.rows / count) + (s < batch.rows % count ? 1 : 0);
    const window = (values: Int32Array) => values.subarray(first * batch.seqLen, (first + rows) * batch.seqLen);
    split.push({
      inputs: window(batch.inputs),
      targets: window(batch.targets),
      rows,
      seqLen: batch.seqLen,
      continues: batch.continues,
      starts: batch.starts?.subarray(first, first + rows),
      before: batch.before?.subarray(first, first + rows),
      part: { first: (batch.part?.first ?? 0) + first, total: batch.part?.total ?? batch.rows },
    });
    first += rows;
  }
  return split;
}
