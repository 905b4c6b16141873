/** The suggestion model's mixture (src/core/mixture.ts): a distribution, and weights that EM fits to held-out text. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KneserNeyTrigram } from '../../src/core/kneserNey';
import {
  crossFittedMixture,
  fitMixture,
  mixDistribution,
  mixtureNats,
  TokenCache,
  type MixtureWeights,
  type TargetProbabilities,
} from '../../src/core/mixture';
import { Random } from '../../src/core/random';

const VOCAB = 12;

/** A trigram over a stream with some repeated phrases, so its distributions are far from uniform. */
function trigram(): KneserNeyTrigram {
  const random = new Random(7);
  const stream = Array.from({ length: 600 }, (_, i) => (i % 5 === 0 ? 1 + random.int(VOCAB - 1) : (i % 5) + 1));
  return KneserNeyTrigram.fit(Int32Array.from(stream), VOCAB);
}

/** A normalised random distribution standing in for the network's softmax. */
function networkDistribution(seed: number): Float32Array {
  const random = new Random(seed);
  const values = Float32Array.from({ length: VOCAB }, () => random.next() + 0.01);
  const total = values.reduce((a, b) => a + b, 0);
  return values.map((v) => v / total);
}

const sum = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0);

describe('mixDistribution', () => {
  const kn3 = trigram();
  const network = networkDistribution(3);
  const weights: MixtureWeights = { network: 0.5, kn3: 0.3, cache: 0.2, neuralCache: 0 };
  const history = [1, 2, 3];

  it('sums to 1 with a filled cache, and the cache adds its share to the words it saw', () => {
    const cache = new TokenCache();
    for (const id of [4, 4, 5, 9]) cache.add(id);
    const mixed = mixDistribution(network, history, kn3, cache, weights);
    assert.ok(Math.abs(sum(mixed) - 1) < 1e-5, `sums to ${sum(mixed)}`);
    const trigramNext = kn3.distribution(2, 3);
    // Word 4 is half of the cache; word 7 is not in it.
    assert.ok(Math.abs(mixed[4] - (0.5 * network[4] + 0.3 * trigramNext[4] + 0.2 * 0.5)) < 1e-6);
    assert.ok(Math.abs(mixed[7] - (0.5 * network[7] + 0.3 * trigramNext[7])) < 1e-6);
  });

  it('sums to 1 with an empty cache, whose share goes to the network', () => {
    const mixed = mixDistribution(network, history, kn3, new TokenCache(), weights);
    assert.ok(Math.abs(sum(mixed) - 1) < 1e-5, `sums to ${sum(mixed)}`);
    const trigramNext = kn3.distribution(2, 3);
    for (let id = 0; id < VOCAB; id++) assert.ok(Math.abs(mixed[id] - (0.7 * network[id] + 0.3 * trigramNext[id])) < 1e-6);
  });

  it('sums to 1 at the start of a text, with no history for the trigram', () => {
    const mixed = mixDistribution(network, [], kn3, new TokenCache(), weights);
    assert.ok(Math.abs(sum(mixed) - 1) < 1e-5, `sums to ${sum(mixed)}`);
  });
});

describe('TokenCache', () => {
  it('remembers only its last `capacity` tokens', () => {
    const cache = new TokenCache(3);
    for (const id of [1, 1, 2, 3, 3]) cache.add(id);
    assert.equal(cache.size, 3);
    assert.equal(cache.probability(1), 0);
    assert.ok(Math.abs(cache.probability(3) - 2 / 3) < 1e-12);
  });
});

const PART_NAMES = ['network', 'kn3', 'cache', 'neuralCache'] as const;

/**
 * Targets drawn from a known mixture of four distributions over five symbols, with each
 * part's probability of the symbol drawn: what the network, KN3 and the cache would give.
 */
function synthetic(weightsOf: (i: number) => Omit<MixtureWeights, 'neuralCache'> & { neuralCache?: number }, n: number, seed: number): TargetProbabilities {
  const parts = {
    network: [0.7, 0.1, 0.1, 0.05, 0.05],
    kn3: [0.05, 0.7, 0.1, 0.1, 0.05],
    cache: [0.05, 0.05, 0.1, 0.1, 0.7],
    neuralCache: [0.1, 0.05, 0.7, 0.1, 0.05],
  };
  const random = new Random(seed);
  const draw = (p: number[]) => {
    let r = random.next();
    for (let s = 0; s < p.length; s++) if ((r -= p[s]) < 0) return s;
    return p.length - 1;
  };
  const out = { network: new Float64Array(n), kn3: new Float64Array(n), cache: new Float64Array(n), neuralCache: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const w = { neuralCache: 0, ...weightsOf(i) };
    const r = random.next();
    const part = r < w.network ? 'network' : r < w.network + w.kn3 ? 'kn3' : r < w.network + w.kn3 + w.cache ? 'cache' : 'neuralCache';
    const symbol = draw(parts[part]);
    for (const name of PART_NAMES) out[name][i] = parts[name][symbol];
  }
  return out;
}

describe('fitMixture', () => {
  it('recovers the weights of the mixture that made the data', () => {
    const truth = { network: 0.4, kn3: 0.3, cache: 0.2, neuralCache: 0.1 };
    const fitted = fitMixture(synthetic(() => truth, 20_000, 11));
    for (const part of PART_NAMES) {
      assert.ok(Math.abs(fitted[part] - truth[part]) < 0.04, `${part}: fitted ${fitted[part].toFixed(3)}, true ${truth[part]}`);
    }
    assert.ok(Math.abs(fitted.network + fitted.kn3 + fitted.cache + fitted.neuralCache - 1) < 1e-9);
  });

  it('gives nearly all the weight to the one part that explains the data', () => {
    const fitted = fitMixture(synthetic(() => ({ network: 0, kn3: 1, cache: 0 }), 5_000, 12));
    assert.ok(fitted.kn3 > 0.9, JSON.stringify(fitted));
  });

  it('fits only the targets in [from, to)', () => {
    const p = synthetic((i) => (i < 3000 ? { network: 1, kn3: 0, cache: 0 } : { network: 0, kn3: 0, cache: 1 }), 6000, 13);
    assert.ok(fitMixture(p, 0, 3000).network > 0.9);
    assert.ok(fitMixture(p, 3000, 6000).cache > 0.9);
  });
});

/** The mixture's own neural-cache column as the only candidate: the cross-fitting of the weights alone. */
const onlySetting = (p: TargetProbabilities) => [{ settings: { flatness: 1, evidence: 1 }, column: p.neuralCache }];

describe('crossFittedMixture', () => {
  it('scores each half with weights fitted on the other, never better than weights fitted on all', () => {
    // The halves differ, so weights fitted on one half suit the other badly.
    const p = synthetic((i) => (i < 2000 ? { network: 0.8, kn3: 0.1, cache: 0.1 } : { network: 0.1, kn3: 0.8, cache: 0.1 }), 4000, 14);
    const { nats, weights } = crossFittedMixture(p, onlySetting(p));
    const inSample = mixtureNats(p, fitMixture(p));
    assert.ok(nats >= inSample, `cross-fitted ${nats.toFixed(1)} < in-sample ${inSample.toFixed(1)}`);
    assert.ok(nats > inSample * 1.02, 'the mismatch between the halves shows in the cross-fitted nats');
    assert.deepEqual(weights, fitMixture(p));
  });

  it('costs little when the halves are alike', () => {
    const p = synthetic(() => ({ network: 0.4, kn3: 0.4, cache: 0.2 }), 4000, 15);
    const { nats } = crossFittedMixture(p, onlySetting(p));
    const inSample = mixtureNats(p, fitMixture(p));
    assert.ok(nats >= inSample && nats < inSample * 1.01, `cross-fitted ${nats.toFixed(1)}, in-sample ${inSample.toFixed(1)}`);
  });

  it('chooses the neural-cache settings whose column explains the targets', () => {
    const p = synthetic(() => ({ network: 0.4, kn3: 0.2, cache: 0.1, neuralCache: 0.3 }), 4000, 16);
    // A column of the same size that knows nothing: the network's probabilities shuffled.
    const random = new Random(17);
    const noise = Float64Array.from(p.neuralCache, () => p.network[random.int(p.network.length)]);
    const candidates = [
      { settings: { flatness: 0.3, evidence: 1 }, column: noise },
      { settings: { flatness: 1, evidence: 2 }, column: p.neuralCache },
    ];
    const fitted = crossFittedMixture(p, candidates);
    assert.deepEqual(fitted.neuralCache, { flatness: 1, evidence: 2 });
    assert.ok(Math.abs(fitted.weights.neuralCache - 0.3) < 0.06, JSON.stringify(fitted.weights));
  });
});
