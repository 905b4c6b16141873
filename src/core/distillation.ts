/**
 * Training against the Kneser-Ney trigram as well as the text (knowledge distillation,
 * Hinton et al. 2015, with the count model as the teacher). Each target is
 * (1 − α) · one-hot + α · P_KN(· | the two words before): the trigram tells the network
 * which other words fit that context, which one-hot targets on one person's text are too
 * few to teach. It acts as a smoothing prior that fades where the network has seen enough
 * to know better, and the saved model stays a plain network.
 *
 * The cross-entropy's gradient w.r.t. the logits is p − target, so the teacher only moves
 * it by −α · (P_KN − one-hot): the shift below. P_KN is share · P1 plus the followers
 * the context was seen with (KneserNeyTrigram.followers), so a batch's shift costs one pass
 * over its rows' P1 part and a list of entries, not a dense [rows, V] table.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from './dataset';
import type { Candidates } from './fast/candidates';
import { KneserNeyTrigram, type FollowerTable, type KneserNeyJSON } from './kneserNey';

/** What a trainer (and each thread of a data-parallel one) needs to distil from the trigram. */
export interface TeacherSettings {
  /** α: the teacher's share of every target (0 < α < 1). */
  weight: number;
  /** The trigram counts of the run's training part, with its vocabulary. */
  ngrams: KneserNeyJSON;
}

/**
 * α · (P_KN − one-hot) for every row of a batch, rows in time-major order (row t·rows + r
 * is lane r's step t, as the fast and native paths lay them out), over the output's
 * columns (the vocabulary, or a sampled softmax's candidates): shares[row] · lowestOrder
 * in every column, plus `weights[k]` at (entries[2k], entries[2k + 1]) = (row, column):
 * first the followers each row's context has seen, then the one-hot part, −α at each
 * row's target, one entry per row in row order.
 */
export interface TargetShift {
  /** α: the teacher's share of every target. */
  alpha: number;
  /** α · P1 of each column [V or C] (over candidates raised by 1/π). */
  lowestOrder: Float32Array;
  /** Each row's share of P1 [rows]. */
  shares: Float32Array;
  /** (row, column) pairs [K, 2]. */
  entries: Int32Array;
  /** [K]. */
  weights: Float32Array;
}

export class NgramTeacher {
  readonly weight: number;
  private readonly model: KneserNeyTrigram;
  /** P1 of every word. */
  private readonly lowestOrder: Float64Array;
  private readonly scaledLowestOrder: Float32Array;

  constructor(settings: TeacherSettings) {
    this.weight = settings.weight;
    this.model = KneserNeyTrigram.fromJSON(settings.ngrams);
    this.lowestOrder = this.model.lowestOrderProbabilities();
    this.scaledLowestOrder = Float32Array.from(this.lowestOrder, (p) => p * settings.weight);
  }

  /** The teacher's settings for a run: α, and the trigram fitted on its training part. */
  static settings(weight: number, train: Int32Array, vocabSize: number): TeacherSettings {
    return { weight, ngrams: KneserNeyTrigram.fit(train, vocabSize).toJSON() };
  }

  /**
   * The shift of `batch`'s targets, over the whole vocabulary or over a sampled softmax's
   * `candidates`. The context of a row's first step reaches back to the word before the
   * window (`batch.before`); without it the window is read as the text's start.
   *
   * Over candidates (fast/candidates.ts): as a drawn word's logit stands for the words like
   * it that were not drawn (raised by its correction, −log π), its teacher probability is
   * raised by the same factor 1/π, and each row's teacher part is scaled to sum to α again,
   * so the teacher pulls the softmax over the candidates as it pulls the full one.
   */
  shift(batch: Batch, candidates?: Candidates): TargetShift {
    const { rows, seqLen, inputs, targets } = batch;
    const alpha = this.weight;
    const count = rows * seqLen;
    const vocab = this.lowestOrder.length;
    // Where each word sits in the output (−1: not scored), and the factor its probability gets.
    const column = candidates ? new Int32Array(vocab).fill(-1) : undefined;
    candidates?.ids.forEach((id, c) => (column![id] = c));
    const factor = candidates ? Float64Array.from(candidates.corrections, Math.exp) : undefined;
    const lowestOrder = candidates ? Float32Array.from(candidates.ids, (id, c) => alpha * this.lowestOrder[id] * factor![c]) : this.scaledLowestOrder;
    const lowestOrderMass = candidates ? lowestOrder.reduce((sum, p) => sum + p, 0) / alpha : 1;

    const tables = new Array<ReturnType<KneserNeyTrigram['followers']>>(count);
    let size = count; // one entry a row for its target
    for (let t = 0; t < seqLen; t++) {
      for (let r = 0; r < rows; r++) {
        const at = r * seqLen + t;
        const before = t > 0 ? inputs[at - 1] : batch.before?.[r];
        const row = (tables[t * rows + r] = this.model.followers(before === undefined || before < 0 ? undefined : before, inputs[at]));
        size += (row.trigram?.ids.length ?? 0) + (row.bigram?.ids.length ?? 0);
      }
    }
    const shares = new Float32Array(count);
    const entries = new Int32Array(2 * size);
    const weights = new Float32Array(size);
    let k = 0;
    for (let row = 0; row < count; row++) {
      const { trigram, bigram } = tables[row];
      const trigramGamma = trigram?.gamma ?? 1;
      const first = k;
      let mass = 0;
      const add = (table: FollowerTable | undefined, scale: number) => {
        if (!table) return;
        for (let j = 0; j < table.ids.length; j++) {
          const c = column ? column[table.ids[j]] : table.ids[j];
          if (c < 0) continue;
          const weight = scale * table.weights[j] * (factor ? factor[c] : 1);
          entries[2 * k] = row;
          entries[2 * k + 1] = c;
          weights[k++] = weight;
          mass += weight;
        }
      };
      add(trigram, 1);
      add(bigram, trigramGamma);
      const share = trigramGamma * (bigram?.gamma ?? 1);
      // Over the vocabulary the row's teacher part sums to 1 already; over candidates, to what they cover.
      const normaliser = alpha / (candidates ? mass + share * lowestOrderMass : 1);
      for (let j = first; j < k; j++) weights[j] *= normaliser;
      shares[row] = (share * normaliser) / alpha;
    }
    for (let t = 0; t < seqLen; t++) {
      for (let r = 0; r < rows; r++) {
        const target = targets[r * seqLen + t];
        entries[2 * k] = t * rows + r;
        entries[2 * k + 1] = column ? column[target] : target;
        weights[k++] = -alpha;
      }
    }
    return { alpha, lowestOrder, shares, entries: entries.subarray(0, 2 * k), weights: weights.subarray(0, k) };
  }
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
