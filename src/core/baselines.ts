/**
 * Counting baselines: a uniform guess, add-one unigram frequencies and an interpolated
 * modified Kneser-Ney trigram (KN3), fitted on the training part of the stream and scored
 * on the same targets as the network (every held-out token but the first), so a person
 * sees whether the network beats counting. A plain bigram is too easy a bar (DESIGN.md §5).
 * The counts are saved with a run (ngrams.json) so that `seqlab eval` can score a new file
 * against them.
 */
import { UserError } from './errors';
import { KneserNeyTrigram, type KneserNeyJSON } from './kneserNey';
import { natsPerCharacter, targetCount, unknownShare, type HeldOutText } from './perCharacter';
import type { Baselines } from '../protocol/types';

/** ngrams.json as SeqLab 0.1 wrote it: unigram counts and word pairs, before KN3. */
interface BigramJSON {
  format: 'seqlab-ngrams';
  version: 1;
  vocabSize: number;
  /** Count of each token id in the training part. */
  unigrams: number[];
  /** Flat triples: previous id, next id, count. */
  bigrams: number[];
}

export class CountingBaselines {
  private readonly unigramCounts: Float64Array;
  private readonly total: number;

  private constructor(
    private readonly model: KneserNeyTrigram,
    /** False for a model read from a version 1 file, whose counts know one word of context. */
    private readonly trigramContexts: boolean,
  ) {
    this.unigramCounts = model.unigramCounts();
    this.total = this.unigramCounts.reduce((sum, count) => sum + count, 0);
  }

  get vocabSize(): number {
    return this.model.vocabSize;
  }

  /** The trigram model, for suggestions; undefined for counts of an older run that only knew word pairs. */
  get kn3(): KneserNeyTrigram | undefined {
    return this.trigramContexts ? this.model : undefined;
  }

  static fit(train: Int32Array, vocabSize: number): CountingBaselines {
    return new CountingBaselines(KneserNeyTrigram.fit(train, vocabSize), true);
  }

  /** Reads ngrams.json: version 2 (KN3 counts) or version 1 (word pairs) of older runs. */
  static fromJSON(json: unknown): CountingBaselines {
    const data = json as { format?: unknown; version?: unknown } | null;
    if (data?.format === 'seqlab-ngrams' && data.version === 1) {
      return new CountingBaselines(KneserNeyTrigram.fromJSON(trigramsOfPairs(json as Partial<BigramJSON>)), false);
    }
    return new CountingBaselines(KneserNeyTrigram.fromJSON(json), true);
  }

  toJSON(): KneserNeyJSON {
    if (!this.trigramContexts) throw new Error('Counts read from a version 1 ngrams.json are not saved again.');
    return this.model.toJSON();
  }

  /** The uniform, unigram and KN3 baselines on the targets of `heldOut`. */
  score(heldOut: HeldOutText): Baselines {
    const { ids } = heldOut;
    let unigramNats = 0;
    let kn3Nats = 0;
    for (let i = 1; i < ids.length; i++) {
      unigramNats -= Math.log(this.unigram(ids[i]));
      const before = this.trigramContexts && i >= 2 ? ids[i - 2] : undefined;
      kn3Nats -= Math.log(this.model.probability(before, ids[i - 1], ids[i]));
    }
    const targets = Math.max(targetCount(heldOut), 1);
    return {
      uniform: this.vocabSize,
      unigram: Math.exp(unigramNats / targets),
      kn3: Math.exp(kn3Nats / targets),
      kn3NatsPerChar: natsPerCharacter(kn3Nats, heldOut),
      unknownShare: unknownShare(heldOut),
    };
  }

  /** Add-one smoothing: every vocabulary entry keeps some probability. */
  private unigram(id: number): number {
    return (this.unigramCounts[id] + 1) / (this.total + this.vocabSize);
  }
}

/**
 * A version 1 file as KN counts: each pair (v, w) becomes the trigram (padding, v, w), and
 * the stream's first token, the one unigram count no pair accounts for, (padding, padding, w).
 * Scored with the padding always as the first context word, that is a Kneser-Ney bigram (its
 * middle level, where every pair counts once, only smooths a little more): word pairs
 * cannot tell more.
 */
function trigramsOfPairs(data: Partial<BigramJSON>): KneserNeyJSON {
  const { vocabSize, unigrams, bigrams } = data;
  const valid =
    Number.isInteger(vocabSize) &&
    vocabSize! > 0 &&
    Array.isArray(unigrams) &&
    unigrams.length === vocabSize &&
    unigrams.every((n) => Number.isInteger(n) && n >= 0) &&
    Array.isArray(bigrams) &&
    bigrams.length % 3 === 0 &&
    bigrams.every((n, i) => Number.isInteger(n) && (i % 3 === 2 ? n > 0 : n >= 0 && n < vocabSize!));
  if (!valid) throw new UserError('ngrams.json is not a valid table of word counts.');
  const padding = vocabSize!;
  const trigrams: number[] = [];
  const unpaired = Float64Array.from(unigrams!);
  for (let i = 0; i < bigrams!.length; i += 3) {
    trigrams.push(padding, bigrams![i], bigrams![i + 1], bigrams![i + 2]);
    unpaired[bigrams![i + 1]] -= bigrams![i + 2];
  }
  const first = unpaired.findIndex((count) => count === 1);
  if (first >= 0) trigrams.push(padding, padding, first, 1);
  return { format: 'seqlab-ngrams', version: 2, vocabSize: vocabSize!, trigrams, padding };
}
