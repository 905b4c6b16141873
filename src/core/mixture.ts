/**
 * The suggestion model: the network's next-word distribution mixed with the Kneser-Ney
 * trigram's and with a cache of the words of the document being typed,
 *
 *   P(w | history) = λ_net · P_net(w) + λ_kn3 · P_kn3(w | u v) + λ_cache · P_cache(w)
 *
 * The network knows style and long context but smooths away rare exact phrases; the trigram
 * remembers exact phrases of the training text; the cache knows the names and words of the
 * document at hand that the training text may never have used (Kuhn & De Mori 1990). The
 * weights are fitted on held-out text by expectation-maximisation, the standard fit for a
 * linear mixture, so each part gets the share of the probability it earns.
 */
import type { KneserNeyTrigram } from './kneserNey';

export interface MixtureWeights {
  network: number;
  kn3: number;
  cache: number;
}

/** The network alone: what a run uses when it has no fitted mixture. */
export const NETWORK_ONLY: MixtureWeights = { network: 1, kn3: 0, cache: 0 };

/** Recent tokens the cache remembers: a few pages, the span over which a document repeats itself. */
export const CACHE_TOKENS = 2000;

/** Counts of the last CACHE_TOKENS token ids seen. */
export class TokenCache {
  private readonly counts = new Map<number, number>();
  private readonly window: number[] = [];

  constructor(private readonly capacity = CACHE_TOKENS) {}

  add(id: number): void {
    this.window.push(id);
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    if (this.window.length > this.capacity) {
      const old = this.window.shift()!;
      const left = this.counts.get(old)! - 1;
      if (left === 0) this.counts.delete(old);
      else this.counts.set(old, left);
    }
  }

  get size(): number {
    return this.window.length;
  }

  /** Share of the remembered tokens that are `id` (0 while the cache is empty). */
  probability(id: number): number {
    return this.window.length === 0 ? 0 : (this.counts.get(id) ?? 0) / this.window.length;
  }

  /** Adds `weight` × the cache's distribution to `out`. */
  addTo(out: Float32Array, weight: number): void {
    if (this.window.length === 0) return;
    const scale = weight / this.window.length;
    for (const [id, count] of this.counts) out[id] += count * scale;
  }
}

/**
 * Mixes the network's distribution after `history` (token ids, oldest first) with the
 * trigram's and the cache's. While the cache is empty its weight goes to the network.
 */
export function mixDistribution(
  network: Float32Array,
  history: readonly number[],
  kn3: KneserNeyTrigram,
  cache: TokenCache,
  weights: MixtureWeights,
): Float32Array {
  const cacheWeight = cache.size > 0 ? weights.cache : 0;
  const networkWeight = weights.network + (weights.cache - cacheWeight);
  const out = new Float32Array(network.length);
  for (let i = 0; i < out.length; i++) out[i] = networkWeight * network[i];
  if (weights.kn3 > 0) {
    const n = history.length;
    const trigram = kn3.distribution(n >= 2 ? history[n - 2] : undefined, n >= 1 ? history[n - 1] : undefined);
    for (let i = 0; i < out.length; i++) out[i] += weights.kn3 * trigram[i];
  }
  cache.addTo(out, cacheWeight);
  return out;
}

/** Each part's probability of every target of a held-out stream, position by position. */
export interface TargetProbabilities {
  network: Float64Array;
  kn3: Float64Array;
  cache: Float64Array;
}

/**
 * The trigram's and the cache's probabilities of `stream[1..]`, the cache filling as the
 * stream is read (as it does while a person types); `network` is the network's, computed
 * by the caller.
 */
export function targetProbabilities(stream: Int32Array, network: Float64Array, kn3: KneserNeyTrigram): TargetProbabilities {
  const targets = Math.max(stream.length - 1, 0);
  const knProbabilities = new Float64Array(targets);
  const cacheProbabilities = new Float64Array(targets);
  const cache = new TokenCache();
  if (stream.length > 0) cache.add(stream[0]);
  for (let i = 1; i < stream.length; i++) {
    knProbabilities[i - 1] = kn3.probability(i >= 2 ? stream[i - 2] : undefined, stream[i - 1], stream[i]);
    cacheProbabilities[i - 1] = cache.probability(stream[i]);
    cache.add(stream[i]);
  }
  return { network, kn3: knProbabilities, cache: cacheProbabilities };
}

const PARTS = ['network', 'kn3', 'cache'] as const;

/** Fits the mixture weights to targets [from, to) by EM; a few dozen rounds converge. */
export function fitMixture(p: TargetProbabilities, from = 0, to = p.network.length, rounds = 40): MixtureWeights {
  let weights: MixtureWeights = { network: 1 / 3, kn3: 1 / 3, cache: 1 / 3 };
  for (let round = 0; round < rounds; round++) {
    const responsibility = { network: 0, kn3: 0, cache: 0 };
    for (let i = from; i < to; i++) {
      const total = PARTS.reduce((sum, part) => sum + weights[part] * p[part][i], 0);
      if (total <= 0) continue;
      for (const part of PARTS) responsibility[part] += (weights[part] * p[part][i]) / total;
    }
    const sum = PARTS.reduce((s, part) => s + responsibility[part], 0);
    if (sum <= 0) return NETWORK_ONLY;
    weights = { network: responsibility.network / sum, kn3: responsibility.kn3 / sum, cache: responsibility.cache / sum };
  }
  return weights;
}

/** Total nats of the mixture on targets [from, to). */
export function mixtureNats(p: TargetProbabilities, weights: MixtureWeights, from = 0, to = p.network.length): number {
  let nats = 0;
  for (let i = from; i < to; i++) nats -= Math.log(PARTS.reduce((sum, part) => sum + weights[part] * p[part][i], 0));
  return nats;
}

/**
 * Held-out nats of the mixture with weights that never saw the targets they score: fitted
 * on each half of the stream and scored on the other (two-fold cross-fitting), so the
 * figure is what the mixture would score on new text. Also returns weights fitted on all.
 */
export function crossFittedMixture(p: TargetProbabilities): { nats: number; weights: MixtureWeights } {
  const n = p.network.length;
  const half = Math.floor(n / 2);
  const first = fitMixture(p, 0, half);
  const second = fitMixture(p, half, n);
  const nats = mixtureNats(p, second, 0, half) + mixtureNats(p, first, half, n);
  return { nats, weights: fitMixture(p) };
}
