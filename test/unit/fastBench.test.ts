/** The benchmark's arithmetic: what a batch of each cell costs in FLOPs (no timing here). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { flopsOf, forwardProducts, trainingProducts } from '../../src/bench/flops';
import { percentile } from '../../src/bench/stats';

const SHAPE = { vocabSize: 1000, embedding: 64, units: 128, layers: 1, batch: 32, seqLen: 32 };

describe('benchmark FLOP counts', () => {
  it('counts the forward products of each cell: N·(E·G·U + U·G·U) + N·U·V multiply-adds', () => {
    const n = 32 * 32;
    for (const [cell, gates] of [['rnn', 1], ['gru', 3], ['lstm', 4]] as const) {
      const macs = n * (64 * gates * 128 + 128 * gates * 128) + n * 128 * 1000;
      assert.equal(flopsOf(forwardProducts({ ...SHAPE, cell })), 2 * macs, cell);
    }
  });

  it('counts a training step as three times the forward pass', () => {
    for (const cell of ['rnn', 'gru', 'lstm'] as const) {
      const shape = { ...SHAPE, cell, layers: 2 };
      assert.equal(flopsOf(trainingProducts(shape)), 3 * flopsOf(forwardProducts(shape)), cell);
    }
  });

  it('takes percentiles by nearest rank', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i);
    assert.equal(percentile(values, 50), 100);
    assert.equal(percentile(values, 95), 190);
    assert.equal(percentile(values, 99), 198);
    assert.equal(percentile(values, 100), 200);
  });
});
