/**
 * Turns one contiguous token stream into training and validation windows. Every position
 * of a window predicts its next token (many-to-many), so a window of `seqLen` inputs
 * yields `seqLen` integer targets: no one-hot vectors, no padding.
 */
import { UserError } from './errors';
import { Random } from './random';
import { splitTokens, UNKNOWN_ID } from './tokenizer';

/** Fewest tokens a window may shrink to before training stops making sense. */
export const MIN_SEQ_LEN = 4;
/** A text needs a few windows to learn anything from. */
export const MIN_TRAIN_WINDOWS = 2;

export interface Split {
  train: Int32Array;
  validation: Int32Array;
  /** The window length used: the requested one, shrunk for a short text. */
  seqLen: number;
  /** The word each id stands for, where the ids come from a tokenizer (subword vectors read their spellings). */
  words?: readonly string[];
}

/**
 * Cuts off the last `valSplit` share of a text, at whitespace, for validation. The cut is
 * made on the text rather than on token ids so that the vocabulary can be fitted on the
 * training part alone: words that only occur in the held-out part then count as unknown,
 * as they would for genuinely new text.
 */
export function splitText(text: string, valSplit: number): { trainText: string; validationText: string } {
  if (valSplit <= 0) return { trainText: text, validationText: '' };
  let cut = Math.floor(text.length * (1 - valSplit));
  // Move back to a whitespace (if one is near) so no word is cut in two.
  const before = text.slice(Math.max(0, cut - 200), cut);
  const space = before.search(/\s\S*$/);
  if (space >= 0) cut = cut - before.length + space;
  // A held-out part needs two tokens: one to read, one to predict.
  while (cut > 0 && splitTokens(text.slice(cut)).length < 2) cut = Math.max(0, text.lastIndexOf(' ', cut - 1));
  return { trainText: text.slice(0, cut), validationText: text.slice(cut) };
}

/**
 * Checks that the training part holds enough for training and picks the window length. A
 * short text shrinks the window (down to MIN_SEQ_LEN) rather than failing; a text too short
 * even for that gets one sentence saying how many tokens it has and needs.
 */
export function splitStream(
  train: Int32Array,
  validation: Int32Array,
  seqLen: number,
  valSplit: number,
  name = 'The text',
): Split {
  if (longestWindow(train.length) < MIN_SEQ_LEN || (valSplit > 0 && validation.length < 2)) {
    const tokens = train.length + validation.length;
    throw new UserError(`${name} has ${tokens} tokens; training needs at least ${Math.max(minimumTokens(valSplit), tokens + 1)}.`);
  }
  return { train, validation, seqLen: Math.min(seqLen, longestWindow(train.length)) };
}

/** The fewest tokens a text needs for training with this validation share. */
export function minimumTokens(valSplit: number): number {
  let tokens = 1;
  while (longestWindow(tokens - heldOutCount(tokens, valSplit)) < MIN_SEQ_LEN) tokens++;
  return tokens;
}

/** Validation keeps at least two tokens (one input, one target) when there is a split. */
function heldOutCount(tokens: number, valSplit: number): number {
  return valSplit > 0 ? Math.max(2, Math.floor(tokens * valSplit)) : 0;
}

/** The longest window that still leaves MIN_TRAIN_WINDOWS windows in the training part. */
function longestWindow(trainCount: number): number {
  return Math.floor((trainCount - 1) / MIN_TRAIN_WINDOWS);
}

/** A batch of windows: inputs and their next-token targets, both [rows, seqLen] row-major. */
export interface Batch {
  inputs: Int32Array;
  targets: Int32Array;
  rows: number;
  seqLen: number;
  /**
   * Row r continues the text of row r of the batch before, so the recurrent state it ended
   * with carries over (truncated backpropagation through time). Without it rows start from
   * the zero state.
   */
  continues?: boolean;
  /** Where in the stream each row's first input is, so a score per target can be put back in stream order. */
  starts?: Int32Array;
  /**
   * Set when this batch is part of a bigger one split between threads (data-parallel
   * training): its rows are rows first … first + rows − 1 of a batch of `total` rows, and
   * dropout masks them as training the whole batch would.
   */
  part?: { first: number; total: number };
  /** The word before each row's first input, −1 at the start of the text: the context a trigram teacher reads (distillation.ts). */
  before?: Int32Array;
}

/** Number of windows of `seqLen` inputs (plus one target beyond) a stream holds. */
export function windowCount(stream: Int32Array, seqLen: number, offset = 0): number {
  return Math.max(0, Math.floor((stream.length - offset - 1) / seqLen));
}

/**
 * Training batches for one epoch, as language-model training does it: the stream (from a
 * random offset, so window boundaries move between epochs) is cut into `batchSize` lanes of
 * consecutive text, and batch k holds the k-th window of every lane. Each batch continues
 * the one before, so the model learns to use the state its own reading left, as it reads
 * when it suggests, rather than only ever starting from zero.
 */
export function trainingBatches(stream: Int32Array, seqLen: number, batchSize: number, random: Random): Batch[] {
  const offset = windowCount(stream, seqLen, seqLen - 1) >= MIN_TRAIN_WINDOWS ? random.int(seqLen) : 0;
  const lanes = Math.max(1, Math.min(batchSize, windowCount(stream, seqLen, offset)));
  const laneLength = Math.floor((stream.length - offset - 1) / lanes);
  const steps = Math.floor(laneLength / seqLen);
  return laneBatches(stream, offset, lanes, laneLength, Array(steps).fill(seqLen));
}

/**
 * Validation batches: the stream cut into lanes the same way, read to the end of every
 * lane (the last window may be shorter), so each token is scored once with the context of
 * everything before it in its lane. The few tokens left over by the cut are one more row.
 */
export function evaluationBatches(stream: Int32Array, seqLen: number, batchSize: number): Batch[] {
  const targets = stream.length - 1;
  if (targets <= 0) return [];
  const lanes = Math.max(1, Math.min(batchSize, Math.floor(targets / seqLen)));
  const laneLength = Math.floor(targets / lanes);
  const lengths = Array(Math.floor(laneLength / seqLen)).fill(seqLen);
  if (laneLength % seqLen > 0) lengths.push(laneLength % seqLen);
  const batches = laneBatches(stream, 0, lanes, laneLength, lengths);
  const leftover = targets - lanes * laneLength;
  if (leftover > 0) batches.push(...laneBatches(stream, lanes * laneLength, 1, leftover, [leftover]));
  return batches;
}

/** Batches whose row r reads lane r (`laneLength` tokens from `offset + r·laneLength`), window lengths in order. */
function laneBatches(stream: Int32Array, offset: number, lanes: number, laneLength: number, lengths: number[]): Batch[] {
  const batches: Batch[] = [];
  let position = 0;
  for (const seqLen of lengths) {
    const inputs = new Int32Array(lanes * seqLen);
    const targets = new Int32Array(lanes * seqLen);
    const starts = new Int32Array(lanes);
    const before = new Int32Array(lanes);
    for (let r = 0; r < lanes; r++) {
      const start = offset + r * laneLength + position;
      starts[r] = start;
      before[r] = start > 0 ? stream[start - 1] : -1;
      inputs.set(stream.subarray(start, start + seqLen), r * seqLen);
      targets.set(stream.subarray(start + 1, start + seqLen + 1), r * seqLen);
    }
    batches.push({ inputs, targets, rows: lanes, seqLen, continues: position > 0, starts, before });
    position += seqLen;
  }
  return batches;
}

/**
 * The training stream with some of its rare words read as the unknown word: each
 * occurrence of a word seen once in `stream` becomes `<unk>` with probability `share`. The
 * vocabulary keeps the words seen once, so the model learns them; but the text it is used
 * on will bring words it has never seen, and reading some rare words as `<unk>` is how
 * training sees how often that happens, and where. Training draws a new choice each
 * epoch; the count models take the one of `countedStream`.
 */
export function withRareAsUnknown(stream: Int32Array, share: number, random: Random): Int32Array {
  if (share <= 0) return stream;
  const counts = new Map<number, number>();
  for (const id of stream) counts.set(id, (counts.get(id) ?? 0) + 1);
  return stream.map((id) => (counts.get(id) === 1 && random.next() < share ? UNKNOWN_ID : id));
}

/** The training stream the count models (KN3, and the trigram teacher) are fitted on: one fixed choice of `withRareAsUnknown`. */
export function countedStream(train: Int32Array, share: number, seed: number): Int32Array {
  return withRareAsUnknown(train, share, new Random(seed));
}

/** The choice of epoch `epoch` (1-based), the same in a resumed run. */
export function epochStream(train: Int32Array, share: number, seed: number, epoch: number): Int32Array {
  return withRareAsUnknown(train, share, new Random((Math.imul(seed, 0x9e3779b1) + epoch) >>> 0));
}
