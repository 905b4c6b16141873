/**
 * The words a sampled-softmax training step scores (Jean et al. 2015; Bengio & Senécal
 * 2008): every target of the batch, and `samples` other words drawn from the training
 * text's unigram distribution raised to 0.75 (as word2vec draws its negatives). The
 * softmax over these few stands in for the one over the whole vocabulary: each drawn word
 * stands for the words like it that were not drawn, so its logit gets −log π, π being the
 * chance that it was drawn, which makes Σ e^logit/π an unbiased estimate of the part of
 * the normaliser that the batch's targets do not cover.
 */
import { Random } from '../random';

export interface Candidates {
  /** The batch's distinct targets first, then the drawn words; all distinct. */
  ids: Int32Array;
  /** Added to each candidate's logit: 0 for a target, −log π for a drawn word. */
  corrections: Float32Array;
}

/**
 * The words a run's steps draw (its softmaxSamples), or 0 when it trains on the full
 * softmax: sampling only pays where it leaves most of the vocabulary out.
 */
export function sampledWords(softmaxSamples: number | undefined, vocabSize: number): number {
  const samples = softmaxSamples ?? 0;
  return samples > 0 && vocabSize > 2 * samples ? samples : 0;
}

/** The sampler's tables, for a program that must draw the same words (the Keras experiment). */
export interface SamplerTables {
  proposal: number[];
  probability: number[];
  alias: number[];
}

/** Draws beyond this many per wanted word give up (a tiny vocabulary has no more to give). */
const MAX_TRIES_PER_SAMPLE = 20;

export class CandidateSampler {
  /** Walker's alias method: one uniform number and one comparison per draw. */
  private readonly probability: Float64Array;
  private readonly alias: Int32Array;
  private readonly proposal: Float64Array;

  constructor(
    /** How often each word id occurs in the training text. */
    counts: ArrayLike<number>,
    readonly samples: number,
  ) {
    const size = counts.length;
    this.proposal = new Float64Array(size);
    let total = 0;
    for (let id = 0; id < size; id++) total += this.proposal[id] = Math.pow(counts[id] + 1, 0.75);
    for (let id = 0; id < size; id++) this.proposal[id] /= total;
    ({ probability: this.probability, alias: this.alias } = aliasTable(this.proposal));
  }

  tables(): SamplerTables {
    return { proposal: Array.from(this.proposal), probability: Array.from(this.probability), alias: Array.from(this.alias) };
  }

  /** The candidates of a batch with these targets; `seed` makes the draw repeatable. */
  draw(targets: Int32Array, seed: number): Candidates {
    const size = this.proposal.length;
    const index = new Set<number>();
    const ids: number[] = [];
    for (const target of targets) {
      if (index.has(target)) continue;
      index.add(target);
      ids.push(target);
    }
    const fromBatch = ids.length;
    const random = new Random(seed);
    const wanted = Math.min(this.samples, size - fromBatch);
    let drawn = 0;
    let tries = 0;
    while (drawn < wanted && tries < wanted * MAX_TRIES_PER_SAMPLE) {
      tries++;
      const column = random.int(size);
      const id = random.next() < this.probability[column] ? column : this.alias[column];
      if (index.has(id)) continue;
      index.add(id);
      ids.push(id);
      drawn++;
    }
    const corrections = new Float32Array(ids.length);
    for (let i = fromBatch; i < ids.length; i++) {
      // The chance that `tries` draws with replacement hit this word at least once.
      const q = this.proposal[ids[i]];
      const drawnAtLeastOnce = -Math.expm1(tries * Math.log1p(-q));
      corrections[i] = -Math.log(drawnAtLeastOnce);
    }
    return { ids: Int32Array.from(ids), corrections };
  }
}

/**
 * Each target's place among the candidates (every target is one of them), in the order of
 * `targets`: the labels of the softmax over the candidates.
 */
export function candidateTargets(targets: Int32Array, candidates: Candidates, vocabSize: number): Int32Array {
  const position = new Int32Array(vocabSize);
  candidates.ids.forEach((id, i) => (position[id] = i));
  return targets.map((id) => position[id]);
}

/** A sampled-softmax step reports the full softmax's loss and accuracy on one row in this many. */
const FIGURE_ROW_STEP = 8;

/**
 * The rows of a sampled-softmax step (of `rows`) whose full-softmax loss and accuracy stand
 * for all of them: row i·step + (i mod step). Rows are time-major, so a plain stride would
 * often keep to one lane, which is one stretch of the text for a whole epoch.
 */
export function figureRows(rows: number): Int32Array {
  return Int32Array.from({ length: Math.ceil(rows / FIGURE_ROW_STEP) }, (_, i) => i * FIGURE_ROW_STEP + (i % FIGURE_ROW_STEP)).filter((row) => row < rows);
}

/** Vose's construction of the alias table for `p` (which sums to 1). */
function aliasTable(p: Float64Array): { probability: Float64Array; alias: Int32Array } {
  const n = p.length;
  const probability = new Float64Array(n);
  const alias = new Int32Array(n);
  const scaled = Float64Array.from(p, (x) => x * n);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((x, i) => (x < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const less = small.pop()!;
    const more = large.pop()!;
    probability[less] = scaled[less];
    alias[less] = more;
    scaled[more] += scaled[less] - 1;
    (scaled[more] < 1 ? small : large).push(more);
  }
  for (const i of [...small, ...large]) probability[i] = 1;
  return { probability, alias };
}
