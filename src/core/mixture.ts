/**
 * The suggestion model: the network's next-word distribution mixed with the Kneser-Ney
 * trigram's, with a cache of the words of the document being typed and with a neural
 * cache of the contexts they came in,
 *
 *   P(w | history) = λ_net · P_net(w) + λ_kn3 · P_kn3(w | u v) + λ_cache · P_cache(w) + λ_neural · P_neural(w)
 *
 * The network knows style and long context but smooths away rare exact phrases; the trigram
 * remembers exact phrases of the training text; the cache knows the names and words of the
 * document at hand that the training text may never have used (Kuhn & De Mori 1990); the
 * neural cache (neuralCache.ts) knows what the document wrote after contexts like this one.
 * The weights are fitted on held-out text by expectation-maximisation, the standard fit for
 * a linear mixture, so each part gets the share of the probability it earns.
 */
import type { KneserNeyTrigram } from './kneserNey';
import { addNeuralCache, type NeuralCacheSettings, type RememberedPositions } from './neuralCache';

export interface MixtureWeights {
  network: number;
  kn3: number;
  cache: number;
  neuralCache: number;
}

/** The network alone: what a run uses when it has no fitted mixture. */
export const NETWORK_ONLY: MixtureWeights = { network: 1, kn3: 0, cache: 0, neuralCache: 0 };

/** The neural cache after some text: what it remembers, and the top layer's output and the word read now. */
export interface NeuralMemory extends RememberedPositions {
  query: ArrayLike<number>;
  current: number;
  settings: NeuralCacheSettings;
}

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
 * trigram's and the caches'. While a cache is empty its weight goes to the network.
 */
export function mixDistribution(
  network: Float32Array,
  history: readonly number[],
  kn3: KneserNeyTrigram,
  cache: TokenCache,
  weights: MixtureWeights,
  neural?: NeuralMemory,
): Float32Array {
  const out = new Float32Array(network.length);
  const neuralWeight = neural ? addNeuralCache(out, weights.neuralCache, neural.query, neural.current, neural, neural.settings) : 0;
  const cacheWeight = cache.size > 0 ? weights.cache : 0;
  const networkWeight = weights.network + (weights.cache - cacheWeight) + (weights.neuralCache - neuralWeight);
  for (let i = 0; i < out.length; i++) out[i] += networkWeight * network[i];
  if (weights.kn3 > 0) {
    const n = history.length;
    kn3.addDistribution(out, weights.kn3, n >= 2 ? history[n - 2] : undefined, n >= 1 ? history[n - 1] : undefined);
  }
  cache.addTo(out, cacheWeight);
  return out;
}

/** Each part's probability of every target of a held-out stream, position by position. */
export interface TargetProbabilities {
  network: Float64Array;
  kn3: Float64Array;
  cache: Float64Array;
  /** The neural cache's, at one flatness (neuralCacheProbabilities). */
  neuralCache: Float64Array;
}

/**
 * The trigram's and the cache's probabilities of `stream[1..]`, the cache filling as the
 * stream is read (as it does while a person types); `network` and `neuralCache` are
 * computed by the caller.
 */
export function targetProbabilities(stream: Int32Array, network: Float64Array, kn3: KneserNeyTrigram, neuralCache: Float64Array): TargetProbabilities {
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
  return { network, kn3: knProbabilities, cache: cacheProbabilities, neuralCache };
}

const PARTS = ['network', 'kn3', 'cache', 'neuralCache'] as const;

/** Fits the mixture weights to targets [from, to) by EM; a few dozen rounds converge. */
export function fitMixture(p: TargetProbabilities, from = 0, to = p.network.length, rounds = 40): MixtureWeights {
  const fitted = fitWeights(PARTS.map((part) => p[part]), from, to, rounds);
  return fitted ? { network: fitted[0], kn3: fitted[1], cache: fitted[2], neuralCache: fitted[3] } : NETWORK_ONLY;
}

/**
 * The weights of a linear mixture of the columns (each part's probability of every
 * target) that maximise the likelihood of targets [from, to), by expectation-maximisation
 * from equal shares. Undefined when no target has any probability.
 */
export function fitWeights(columns: readonly ArrayLike<number>[], from: number, to: number, rounds = 40): number[] | undefined {
  let weights = columns.map(() => 1 / columns.length);
  for (let round = 0; round < rounds; round++) {
    const responsibility = columns.map(() => 0);
    for (let i = from; i < to; i++) {
      const total = columns.reduce((sum, column, k) => sum + weights[k] * column[i], 0);
      if (total <= 0) continue;
      columns.forEach((column, k) => (responsibility[k] += (weights[k] * column[i]) / total));
    }
    const sum = responsibility.reduce((a, b) => a + b, 0);
    if (sum <= 0) return undefined;
    weights = responsibility.map((r) => r / sum);
  }
  return weights;
}

/** Total nats of the mixture on targets [from, to). */
export function mixtureNats(p: TargetProbabilities, weights: MixtureWeights, from = 0, to = p.network.length): number {
  let nats = 0;
  for (let i = from; i < to; i++) nats -= Math.log(PARTS.reduce((sum, part) => sum + weights[part] * p[part][i], 0));
  return nats;
}

/** A fitted mixture: its weights and how the neural cache weighs what it remembers. */
export interface FittedMixture {
  weights: MixtureWeights;
  neuralCache: NeuralCacheSettings;
}

/**
 * Held-out nats of the mixture with weights and neural-cache settings that never saw the
 * targets they score: fitted on each half of the stream and scored on the other (two-fold
 * cross-fitting), so the figure is what the mixture would score on new text. Also returns
 * the mixture fitted on all. `neural` holds the neural cache's column under each setting tried.
 */
export function crossFittedMixture(
  p: Omit<TargetProbabilities, 'neuralCache'>,
  neural: readonly { settings: NeuralCacheSettings; column: Float64Array }[],
): { nats: number } & FittedMixture {
  const parts = (k: number) => ({ ...p, neuralCache: neural[k].column });
  const fit = (from: number, to: number) =>
    neural
      .map((_, k) => {
        const weights = fitMixture(parts(k), from, to);
        return { k, weights, nats: mixtureNats(parts(k), weights, from, to) };
      })
      .reduce((best, f) => (f.nats < best.nats ? f : best));
  const result = crossFitted(p.network.length, fit, (m, from, to) => mixtureNats(parts(m.k), m.weights, from, to));
  return { nats: result.nats, weights: result.weights.weights, neuralCache: neural[result.weights.k].settings };
}

/**
 * Two-fold cross-fitting of any weights fitted to targets: fitted on each half of `n`
 * targets and scored on the other, and fitted on all of them for use.
 */
export function crossFitted<W>(
  n: number,
  fit: (from: number, to: number) => W,
  nats: (weights: W, from: number, to: number) => number,
): { nats: number; weights: W } {
  const half = Math.floor(n / 2);
  const first = fit(0, half);
  const second = fit(half, n);
  return { nats: nats(second, 0, half) + nats(first, half, n), weights: fit(0, n) };
}
