/**
 * Counting baselines: unigram and bigram models fitted on the training part of the
 * stream and scored on the same targets as the network (every held-out token but the
 * first), so a person sees whether the network beats counting. The counts are saved with
 * a run (ngrams.json) so that `seqlab eval` can score a new file against them.
 */
import { UserError } from './errors';
import type { Baselines } from '../protocol/types';

/** Absolute discount of the bigram model; 0.75 is the usual choice for word bigrams. */
const BIGRAM_DISCOUNT = 0.75;

export interface NgramJSON {
  format: 'seqlab-ngrams';
  version: 1;
  vocabSize: number;
  /** Count of each token id in the training part. */
  unigrams: number[];
  /** Flat triples: previous id, next id, count. */
  bigrams: number[];
}

export class NgramCounts {
  private readonly contextCounts: Float64Array;
  private total = 0;

  private constructor(
    readonly vocabSize: number,
    private readonly unigramCounts: Float64Array,
    private readonly bigrams: Map<number, Map<number, number>>,
  ) {
    this.contextCounts = new Float64Array(vocabSize);
    for (const [previous, followers] of bigrams) {
      for (const count of followers.values()) this.contextCounts[previous] += count;
    }
    for (const count of unigramCounts) this.total += count;
  }

  static fit(train: Int32Array, vocabSize: number): NgramCounts {
    const unigrams = new Float64Array(vocabSize);
    const bigrams = new Map<number, Map<number, number>>();
    for (let i = 0; i < train.length; i++) {
      unigrams[train[i]]++;
      if (i > 0) increment(bigrams, train[i - 1], train[i], 1);
    }
    return new NgramCounts(vocabSize, unigrams, bigrams);
  }

  static fromJSON(json: unknown): NgramCounts {
    const data = json as Partial<NgramJSON> | null;
    const valid =
      data?.format === 'seqlab-ngrams' &&
      Number.isInteger(data.vocabSize) &&
      Array.isArray(data.unigrams) &&
      data.unigrams.length === data.vocabSize &&
      Array.isArray(data.bigrams) &&
      data.bigrams.length % 3 === 0 &&
      data.bigrams.every((n, i) => Number.isInteger(n) && n >= 0 && (i % 3 === 2 || n < data.vocabSize!));
    if (!valid) throw new UserError('ngrams.json is not a valid table of word counts.');
    const bigrams = new Map<number, Map<number, number>>();
    for (let i = 0; i < data.bigrams!.length; i += 3) {
      increment(bigrams, data.bigrams![i], data.bigrams![i + 1], data.bigrams![i + 2]);
    }
    return new NgramCounts(data.vocabSize!, Float64Array.from(data.unigrams!), bigrams);
  }

  toJSON(): NgramJSON {
    const bigrams: number[] = [];
    for (const [previous, followers] of this.bigrams) {
      for (const [next, count] of followers) bigrams.push(previous, next, count);
    }
    return { format: 'seqlab-ngrams', version: 1, vocabSize: this.vocabSize, unigrams: [...this.unigramCounts], bigrams };
  }

  /** Perplexities of the uniform, unigram and bigram models on `heldOut[1..]`. */
  score(heldOut: Int32Array): Baselines {
    let unigramLog = 0;
    let bigramLog = 0;
    for (let i = 1; i < heldOut.length; i++) {
      unigramLog += Math.log(this.unigram(heldOut[i]));
      bigramLog += Math.log(this.bigram(heldOut[i - 1], heldOut[i]));
    }
    const targets = Math.max(heldOut.length - 1, 1);
    return {
      uniform: this.vocabSize,
      unigram: Math.exp(-unigramLog / targets),
      bigram: Math.exp(-bigramLog / targets),
    };
  }

  /** Add-one smoothing: every vocabulary entry keeps some probability. */
  private unigram(id: number): number {
    return (this.unigramCounts[id] + 1) / (this.total + this.vocabSize);
  }

  /** Interpolated absolute discounting: what is taken from seen pairs goes to the unigram. */
  private bigram(previous: number, id: number): number {
    const context = this.contextCounts[previous];
    const followers = this.bigrams.get(previous);
    if (context === 0 || !followers) return this.unigram(id);
    const seen = Math.max((followers.get(id) ?? 0) - BIGRAM_DISCOUNT, 0) / context;
    return seen + ((BIGRAM_DISCOUNT * followers.size) / context) * this.unigram(id);
  }
}

function increment(table: Map<number, Map<number, number>>, previous: number, next: number, by: number): void {
  let followers = table.get(previous);
  if (!followers) table.set(previous, (followers = new Map()));
  followers.set(next, (followers.get(next) ?? 0) + by);
}
