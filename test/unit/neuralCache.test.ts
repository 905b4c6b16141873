/** The neural cache (src/core/neuralCache.ts): by hand, over the window, and the same in scoring and in suggestions. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KneserNeyTrigram } from '../../src/core/kneserNey';
import { mixDistribution, TokenCache } from '../../src/core/mixture';
import { addNeuralCache, NEURAL_CACHE_TOKENS, neuralCacheProbabilities, type RememberedPositions } from '../../src/core/neuralCache';
import { Random } from '../../src/core/random';

const close = (a: number, b: number, tolerance = 1e-6) => Math.abs(a - b) <= tolerance;

describe('addNeuralCache', () => {
  const memory: RememberedPositions = {
    keys: [[1, 0], [0, 1], [1, 0]],
    read: [5, 5, 7],
    next: [1, 2, 3],
  };

  it('predicts what followed the word just read, weighted by how alike the summaries are', () => {
    const out = new Float32Array(8);
    const given = addNeuralCache(out, 0.6, [1, 0], 5, memory, { flatness: 1, evidence: 1 });
    // Positions 0 and 1 read 5 (dots 1 and 0); two readings keep 2 / (2 + 1) of the share.
    assert.ok(close(given, 0.6 * (2 / 3)));
    const e = Math.E;
    assert.ok(close(out[1], given * (e / (e + 1))));
    assert.ok(close(out[2], given * (1 / (e + 1))));
    assert.equal(out[3], 0, 'position 2 read another word');
  });

  it('adds nothing and gives all of its share back where the word was not read before', () => {
    const out = new Float32Array(8);
    assert.equal(addNeuralCache(out, 0.6, [1, 0], 9, memory, { flatness: 1, evidence: 1 }), 0);
    assert.ok(out.every((x) => x === 0));
  });

  it('remembers only the last NEURAL_CACHE_TOKENS positions', () => {
    const count = NEURAL_CACHE_TOKENS + 1;
    const old: RememberedPositions = {
      keys: Array.from({ length: count }, () => [1]),
      read: Array.from({ length: count }, (_, i) => (i === 0 ? 4 : 5)),
      next: Array.from({ length: count }, () => 1),
    };
    assert.equal(addNeuralCache(new Float32Array(2), 1, [1], 4, old, { flatness: 1, evidence: 1 }), 0, 'the only reading of 4 is too old');
  });

  it('makes the mixture a distribution, with the share it does not keep given to the network', () => {
    const vocab = 8;
    const kn3 = KneserNeyTrigram.fit(Int32Array.from([1, 2, 3, 1, 2, 4, 5, 1, 2, 3]), vocab);
    const network = Float32Array.from({ length: vocab }, () => 1 / vocab);
    const cache = new TokenCache();
    [1, 2, 3].forEach((id) => cache.add(id));
    const weights = { network: 0.4, kn3: 0.3, cache: 0.1, neuralCache: 0.2 };
    for (const current of [5, 9]) {
      const mixed = mixDistribution(network, [1, 2], kn3, cache, weights, { ...memory, query: [1, 0], current, settings: { flatness: 1, evidence: 1 } });
      const total = mixed.reduce((a, b) => a + b, 0);
      assert.ok(close(total, 1, 1e-5), `sums to ${total} after reading ${current}`);
    }
  });
});

describe('neuralCacheProbabilities', () => {
  it('gives every target the probability the suggestions would, across chunks and past the window', () => {
    const random = new Random(3);
    const units = 6;
    const targets = NEURAL_CACHE_TOKENS + 300;
    // Few words, so each has been read many times within the window.
    const stream = Int32Array.from({ length: targets + 1 }, () => random.int(5));
    const hidden = Float32Array.from({ length: targets * units }, () => random.next() * 2 - 1);
    const network = Float64Array.from({ length: targets }, () => 0.05 + random.next() * 0.1);
    const settings = [{ flatness: 0.5, evidence: 2 }, { flatness: 3, evidence: 0.5 }];
    const columns = neuralCacheProbabilities(stream, hidden, units, network, settings);
    const row = (t: number) => hidden.subarray(t * units, (t + 1) * units);
    for (const t of [0, 1, 2, 255, 256, 257, 700, NEURAL_CACHE_TOKENS, NEURAL_CACHE_TOKENS + 1, targets - 1]) {
      const from = Math.max(0, t - NEURAL_CACHE_TOKENS);
      const memory = {
        keys: Array.from({ length: t - from }, (_, i) => row(from + i)),
        read: Array.from(stream.subarray(from, t)),
        next: Array.from(stream.subarray(from + 1, t + 1)),
      };
      settings.forEach((setting, k) => {
        const out = new Float32Array(5);
        const given = addNeuralCache(out, 1, row(t), stream[t], memory, setting);
        const expected = out[stream[t + 1]] + (1 - given) * network[t];
        assert.ok(close(columns[k][t], expected, 1e-5), `target ${t}, settings ${k}: ${columns[k][t]} against ${expected}`);
      });
    }
  });
});
