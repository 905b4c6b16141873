/**
 * Interpolated modified Kneser-Ney trigram model (Chen & Goodman 1998, §3.5): the counting
 * baseline a network must beat, and a partner the suggestion model mixes with the network.
 *
 *   P3(w | u v) = max(c(uvw) − D3(c), 0) / c(uv·) + γ(uv) · P2(w | v)
 *   P2(w | v)   = max(N1+(·vw) − D2(n), 0) / N1+(·v·) + γ(v) · P1(w)
 *   P1(w)       = max(N1+(·w) − D1(n), 0) / N1+(··) + γ() / V
 *
 * The highest order uses counts; the lower orders use continuation counts N1+(·vw) (how
 * many different words come before "v w"), which is what makes Kneser-Ney better than
 * plain backoff: "Francisco" is frequent but follows almost only "San", so it gets little
 * unigram mass. Each order has three discounts D(1), D(2), D(3+) set from its
 * count-of-counts, and γ gives back exactly what the discounts took, so every
 * distribution sums to one.
 */
import { UserError } from './errors';

/** Saved with a run as ngrams.json. */
export interface KneserNeyJSON {
  format: 'seqlab-ngrams';
  version: 2;
  vocabSize: number;
  /** Flat (u, v, w, count) quadruples of the training part's trigrams. */
  trigrams: number[];
  /** Id the stream's first trigram context is padded with (none in the stream itself). */
  padding: number;
}

/** One context's seen followers, the probability its order gives each, and γ (what it leaves to the order below). */
export interface FollowerTable {
  ids: Int32Array;
  weights: Float64Array;
  gamma: number;
}

/** Discounts for counts 1, 2 and 3 or more. */
type Discounts = [number, number, number];

/** Follower counts of one context, and what interpolation needs of them. */
class ContextCounts {
  readonly followers = new Map<number, number>();
  total = 0;
  /** Followers seen once, twice, three or more times. */
  readonly kinds: [number, number, number] = [0, 0, 0];

  add(id: number, by: number): void {
    this.followers.set(id, (this.followers.get(id) ?? 0) + by);
    this.total += by;
  }

  finish(): void {
    for (const count of this.followers.values()) this.kinds[Math.min(count, 3) - 1]++;
  }

  /** γ: the share the discounts took from this context's followers. */
  backoffWeight([d1, d2, d3]: Discounts): number {
    return (d1 * this.kinds[0] + d2 * this.kinds[1] + d3 * this.kinds[2]) / this.total;
  }
}

export class KneserNeyTrigram {
  private readonly trigram = new Map<number, ContextCounts>();
  private readonly bigram = new Map<number, ContextCounts>();
  private readonly unigram = new ContextCounts();
  private readonly discounts: { trigram: Discounts; bigram: Discounts; unigram: Discounts };
  /** P1 of every id, interpolated with the uniform distribution. */
  private readonly unigramProbabilities: Float64Array;
  private readonly trigramTables = new Map<number, FollowerTable>();
  private readonly bigramTables = new Map<number, FollowerTable>();

  private constructor(
    readonly vocabSize: number,
    private readonly counts: Map<number, Map<number, number>>,
    private readonly padding: number,
  ) {
    // Continuation counts: each distinct (u, v, w) adds one to N1+(·vw); each distinct (v, w) one to N1+(·w).
    for (const [context, followers] of counts) {
      const trigramContext = new ContextCounts();
      const v = context % (vocabSize + 1);
      let bigramContext = this.bigram.get(v);
      if (!bigramContext) this.bigram.set(v, (bigramContext = new ContextCounts()));
      for (const [w, count] of followers) {
        trigramContext.add(w, count);
        bigramContext.add(w, 1);
      }
      this.trigram.set(context, trigramContext);
    }
    for (const bigramContext of this.bigram.values()) {
      for (const w of bigramContext.followers.keys()) this.unigram.add(w, 1);
    }
    [...this.trigram.values(), ...this.bigram.values(), this.unigram].forEach((c) => c.finish());
    this.discounts = {
      trigram: discountsOf(this.trigram.values()),
      bigram: discountsOf(this.bigram.values()),
      unigram: discountsOf([this.unigram]),
    };
    this.unigramProbabilities = this.lowestOrder();
  }

  /** Counts every trigram of the stream; the first two targets get padded contexts. */
  static fit(stream: Int32Array, vocabSize: number): KneserNeyTrigram {
    const padding = vocabSize; // one past the vocabulary: never a real token
    const counts = new Map<number, Map<number, number>>();
    for (let i = 0; i < stream.length; i++) {
      const u = i >= 2 ? stream[i - 2] : padding;
      const v = i >= 1 ? stream[i - 1] : padding;
      addCount(counts, contextKey(u, v, vocabSize), stream[i], 1);
    }
    return new KneserNeyTrigram(vocabSize, counts, padding);
  }

  static fromJSON(json: unknown): KneserNeyTrigram {
    const data = json as Partial<KneserNeyJSON> | null;
    const vocabSize = data?.vocabSize;
    const quads = data?.trigrams;
    const valid =
      data?.format === 'seqlab-ngrams' &&
      data.version === 2 &&
      Number.isInteger(vocabSize) &&
      vocabSize! > 0 &&
      data.padding === vocabSize &&
      Array.isArray(quads) &&
      quads.length % 4 === 0 &&
      quads.every((n, i) => Number.isInteger(n) && (i % 4 === 3 ? n > 0 : n >= 0 && n <= vocabSize! && (i % 4 === 2 ? n < vocabSize! : true)));
    if (!valid) throw new UserError('ngrams.json is not a valid table of word counts.');
    const counts = new Map<number, Map<number, number>>();
    for (let i = 0; i < quads!.length; i += 4) {
      addCount(counts, contextKey(quads![i], quads![i + 1], vocabSize!), quads![i + 2], quads![i + 3]);
    }
    return new KneserNeyTrigram(vocabSize!, counts, vocabSize!);
  }

  toJSON(): KneserNeyJSON {
    const trigrams: number[] = [];
    const width = this.vocabSize + 1;
    for (const [context, followers] of this.counts) {
      const u = Math.floor(context / width);
      for (const [w, count] of followers) trigrams.push(u, context % width, w, count);
    }
    return { format: 'seqlab-ngrams', version: 2, vocabSize: this.vocabSize, trigrams, padding: this.padding };
  }

  /** Add-one-free unigram frequency of every id in the training part, for the unigram baseline. */
  unigramCounts(): Float64Array {
    const counts = new Float64Array(this.vocabSize);
    for (const followers of this.counts.values()) for (const [w, count] of followers) counts[w] += count;
    return counts;
  }

  /** P(w | u v); pass `undefined` for a context word before the start of the text. */
  probability(u: number | undefined, v: number | undefined, w: number): number {
    const pu = u ?? this.padding;
    const pv = v ?? this.padding;
    const bigram = this.bigramProbability(pv, w);
    const context = this.trigram.get(contextKey(pu, pv, this.vocabSize));
    if (!context) return bigram;
    return discounted(context, w, this.discounts.trigram) + context.backoffWeight(this.discounts.trigram) * bigram;
  }

  /** The whole distribution P(· | u v) over the vocabulary, in one pass. */
  distribution(u: number | undefined, v: number | undefined): Float64Array {
    const out = new Float64Array(this.vocabSize);
    this.addDistribution(out, 1, u, v);
    return out;
  }

  /**
   * out += weight · P(· | u v), without a distribution of its own in between: a suggestion
   * mixes one in at every word it looks ahead.
   */
  addDistribution(out: Float32Array | Float64Array, weight: number, u: number | undefined, v: number | undefined): void {
    const { trigram, bigram } = this.followers(u, v);
    const trigramShare = weight * (trigram?.gamma ?? 1);
    const unigramShare = trigramShare * (bigram?.gamma ?? 1);
    const unigram = this.unigramProbabilities;
    for (let w = 0; w < unigram.length; w++) out[w] += unigramShare * unigram[w];
    bigram?.ids.forEach((w, k) => (out[w] += trigramShare * bigram.weights[k]));
    trigram?.ids.forEach((w, k) => (out[w] += weight * trigram.weights[k]));
  }

  /**
   * The followers the context's two orders have seen, each with what its order keeps for
   * it, and γ, what the order passes down: P(w | u v) = trigram part + γ3 · (bigram part +
   * γ2 · P1(w)), an order absent counting as γ = 1 with no followers. Built once per context,
   * as a training step asks for the same few contexts over and over.
   */
  followers(u: number | undefined, v: number | undefined): { trigram?: FollowerTable; bigram?: FollowerTable } {
    const pv = v ?? this.padding;
    const trigramKey = contextKey(u ?? this.padding, pv, this.vocabSize);
    return {
      trigram: followerTable(this.trigramTables, trigramKey, this.trigram.get(trigramKey), this.discounts.trigram),
      bigram: followerTable(this.bigramTables, pv, this.bigram.get(pv), this.discounts.bigram),
    };
  }

  /** P1: the lowest order, the part of every distribution that is the same for all contexts. */
  lowestOrderProbabilities(): Float64Array {
    return this.unigramProbabilities.slice();
  }

  /** Mean nats per target of `stream[1..]`, each target given the tokens before it in the stream. */
  crossEntropy(stream: Int32Array): number {
    let nats = 0;
    for (let i = 1; i < stream.length; i++) {
      nats -= Math.log(this.probability(i >= 2 ? stream[i - 2] : undefined, stream[i - 1], stream[i]));
    }
    return nats / Math.max(stream.length - 1, 1);
  }

  private bigramProbability(v: number, w: number): number {
    const p1 = this.unigramProbabilities[w];
    const context = this.bigram.get(v);
    if (!context) return p1;
    return discounted(context, w, this.discounts.bigram) + context.backoffWeight(this.discounts.bigram) * p1;
  }

  private lowestOrder(): Float64Array {
    const probabilities = new Float64Array(this.vocabSize);
    const uniform = 1 / this.vocabSize;
    const total = this.unigram.total;
    if (total === 0) return probabilities.fill(uniform);
    const gamma = this.unigram.backoffWeight(this.discounts.unigram);
    for (let w = 0; w < this.vocabSize; w++) probabilities[w] = discounted(this.unigram, w, this.discounts.unigram) + gamma * uniform;
    return probabilities;
  }
}

/** max(count − D(count), 0) / total for one follower of a context. */
function discounted(context: ContextCounts, w: number, discounts: Discounts): number {
  const count = context.followers.get(w) ?? 0;
  if (count === 0) return 0;
  return Math.max(count - discounts[Math.min(count, 3) - 1], 0) / context.total;
}

/**
 * Chen & Goodman's estimates from the count-of-counts n1…n4 of one order:
 * Y = n1 / (n1 + 2 n2), D1 = 1 − 2Y n2/n1, D2 = 2 − 3Y n3/n2, D3+ = 3 − 4Y n4/n3.
 * A small text can leave some nk at zero; each discount is then kept in its valid range
 * [0, k] with the usual fallback of Y itself.
 */
function discountsOf(contexts: Iterable<ContextCounts>): Discounts {
  const n = [0, 0, 0, 0, 0];
  for (const context of contexts) for (const count of context.followers.values()) if (count <= 4) n[count]++;
  const y = n[1] + 2 * n[2] > 0 ? n[1] / (n[1] + 2 * n[2]) : 0.5;
  const estimate = (k: number) => {
    const value = n[k] > 0 && n[k + 1] > 0 ? k - (k + 1) * y * (n[k + 1] / n[k]) : y;
    return Math.min(Math.max(value, 0.05), k - 0.05);
  };
  return [estimate(1), estimate(2), estimate(3)];
}

function followerTable(cache: Map<number, FollowerTable>, key: number, context: ContextCounts | undefined, discounts: Discounts): FollowerTable | undefined {
  if (!context) return undefined;
  let table = cache.get(key);
  if (!table) {
    const ids = Int32Array.from(context.followers.keys());
    const weights = Float64Array.from(ids, (w) => discounted(context, w, discounts));
    cache.set(key, (table = { ids, weights, gamma: context.backoffWeight(discounts) }));
  }
  return table;
}

function contextKey(u: number, v: number, vocabSize: number): number {
  // Ids run to vocabSize (the padding), so the base is vocabSize + 1; under 2^53 for any vocabulary SeqLab allows.
  return u * (vocabSize + 1) + v;
}

function addCount(counts: Map<number, Map<number, number>>, context: number, w: number, by: number): void {
  let followers = counts.get(context);
  if (!followers) counts.set(context, (followers = new Map()));
  followers.set(w, (followers.get(w) ?? 0) + by);
}
