/**
 * Training against the Kneser-Ney trigram as well as the text (knowledge distillation,
 * Hinton et al. 2015, with the count model as the teacher). Each target is
 * (1 − α) · one-hot + α · P_KN(· | the two words before): the trigram tells the network
 * which other words fit that context, which one-hot targets on one person's text are too
 * few to teach. It acts as a smoothing prior that fades where the network has seen enough
 * to know better, and the saved model stays a plain network.
 *
 * The cross-entropy's gradient w.r.t. the logits is p − target, so the teacher only moves
 * it by −α · (P_KN − one-hot): the shift below. P_KN is share · P1 plus a few seen
 * followers (KneserNeyTrigram.sparseDistribution), so a batch's shift costs one pass over
 * its rows' P1 part and a short list of entries, not a dense [rows, V] table.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from './dataset';
import type { Candidates } from './fast/candidates';
import { KneserNeyTrigram, type KneserNeyJSON, type SeenFollowers } from './kneserNey';

/** What a trainer (and each thread of a data-parallel one) needs to distil from the trigram. */
export interface TeacherSettings {
  /** α: the teacher's share of every target (0 < α < 1). */
  weight: number;
  /** The trigram counts of the run's training part, with its vocabulary. */
  ngrams: KneserNeyJSON;
}

/**
 * α · (P_KN − one-hot) for every row of a batch, rows in time-major order (row t·rows + r
 * is lane r's step t, as the fast and native paths lay them out): α · shares[row] · P1 over
 * the whole vocabulary, plus `weights[k]` at (entries[2k], entries[2k + 1]) = (row, id):
 * first the followers each row's context has seen (weights > 0), then the one-hot part,
 * −α at each row's target, one entry per row in row order.
 */
export interface TargetShift {
  /** α: the teacher's share of every target. */
  alpha: number;
  /** α · P1 [V]. */
  lowestOrder: Float32Array;
  /** Each row's share of P1 [rows]. */
  shares: Float32Array;
  /** (row, id) pairs [K, 2]. */
  entries: Int32Array;
  /** [K]. */
  weights: Float32Array;
}

export class NgramTeacher {
  readonly weight: number;
  private readonly model: KneserNeyTrigram;
  private readonly lowestOrder: Float32Array;

  constructor(settings: TeacherSettings) {
    this.weight = settings.weight;
    this.model = KneserNeyTrigram.fromJSON(settings.ngrams);
    this.lowestOrder = Float32Array.from(this.model.lowestOrderProbabilities(), (p) => p * settings.weight);
  }

  /** The teacher's settings for a run: α, and the trigram fitted on its training part. */
  static settings(weight: number, train: Int32Array, vocabSize: number): TeacherSettings {
    return { weight, ngrams: KneserNeyTrigram.fit(train, vocabSize).toJSON() };
  }

  /**
   * The shift of `batch`'s targets. The context of a row's first step reaches back to the
   * word before the window (`batch.before`); without it the window is read as the text's start.
   */
  shift(batch: Batch): TargetShift {
    const { rows, seqLen, inputs, targets } = batch;
    const alpha = this.weight;
    const count = rows * seqLen;
    const shares = new Float32Array(count);
    const seen: SeenFollowers = { ids: [], weights: [] };
    const rowOf: number[] = [];
    for (let t = 0; t < seqLen; t++) {
      for (let r = 0; r < rows; r++) {
        const row = t * rows + r;
        const at = r * seqLen + t;
        const before = t > 0 ? inputs[at - 1] : batch.before?.[r];
        const from = seen.ids.length;
        shares[row] = this.model.sparseDistribution(before === undefined || before < 0 ? undefined : before, inputs[at], seen);
        for (let k = from; k < seen.ids.length; k++) rowOf.push(row);
      }
    }
    const followers = seen.ids.length;
    const entries = new Int32Array(2 * (followers + count));
    const weights = new Float32Array(followers + count);
    for (let k = 0; k < followers; k++) {
      entries[2 * k] = rowOf[k];
      entries[2 * k + 1] = seen.ids[k];
      weights[k] = alpha * seen.weights[k];
    }
    for (let t = 0; t < seqLen; t++) {
      for (let r = 0; r < rows; r++) {
        const k = followers + t * rows + r;
        entries[2 * k] = t * rows + r;
        entries[2 * k + 1] = targets[r * seqLen + t];
        weights[k] = -alpha;
      }
    }
    return { alpha, lowestOrder: this.lowestOrder, shares, entries, weights };
  }
}

/**
 * The shift over a sampled softmax's candidates (fast/candidates.ts) instead of the whole
 * vocabulary. As a drawn word's logit stands for the words like it that were not drawn
 * (raised by its correction, −log π), its teacher probability is raised by the same factor
 * 1/π; each row's teacher part is then scaled to sum to α again, so the teacher pulls the
 * softmax over the candidates as it pulls the full one.
 */
export function candidateShift(shift: TargetShift, candidates: Candidates): TargetShift {
  const rows = shift.shares.length;
  const column = new Int32Array(shift.lowestOrder.length).fill(-1);
  candidates.ids.forEach((id, c) => (column[id] = c));
  const lowestOrder = Float32Array.from(candidates.ids, (id, c) => shift.lowestOrder[id] * Math.exp(candidates.corrections[c]));
  const lowestOrderSum = lowestOrder.reduce((sum, p) => sum + p, 0);
  const mass = Float64Array.from(shift.shares, (share) => share * lowestOrderSum);
  const entries: number[] = [];
  const weights: number[] = [];
  const followers = shift.weights.length - rows;
  // The followers that were drawn (every target is a candidate), raised by 1/π.
  for (let k = 0; k < followers; k++) {
    const row = shift.entries[2 * k];
    const c = column[shift.entries[2 * k + 1]];
    if (c < 0) continue;
    const weight = shift.weights[k] * Math.exp(candidates.corrections[c]);
    mass[row] += weight;
    entries.push(row, c);
    weights.push(weight);
  }
  const scales = Float64Array.from(mass, (m) => shift.alpha / m);
  for (let k = 0; k < weights.length; k++) weights[k] *= scales[entries[2 * k]];
  for (let k = followers; k < shift.weights.length; k++) {
    entries.push(shift.entries[2 * k], column[shift.entries[2 * k + 1]]);
    weights.push(shift.weights[k]);
  }
  const shares = Float32Array.from(shift.shares, (share, row) => share * scales[row]);
  return { alpha: shift.alpha, lowestOrder, shares, entries: Int32Array.from(entries), weights: Float32Array.from(weights) };
}

/** A shift as the tensors the output layer takes: α·P1 [1, V], shares [N, 1], entries [K, 2], weights [K]. */
export function shiftTensors(shift: TargetShift): tf.Tensor[] {
  const count = shift.weights.length;
  return [
    tf.tensor2d(shift.lowestOrder, [1, shift.lowestOrder.length]),
    tf.tensor2d(shift.shares, [shift.shares.length, 1]),
    tf.tensor2d(shift.entries, [count, 2], 'int32'),
    tf.tensor1d(shift.weights),
  ];
}
