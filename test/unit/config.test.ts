import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig } from '../../src/core/config';
import { UserError } from '../../src/core/errors';

describe('resolveTrainConfig', () => {
  it('returns the defaults when nothing is overridden, and applies overrides', () => {
    assert.deepEqual(resolveTrainConfig(), DEFAULT_TRAIN_CONFIG);
    const config = resolveTrainConfig({ cell: 'gru', units: 64, learningRate: 0.01 });
    assert.equal(config.cell, 'gru');
    assert.equal(config.units, 64);
    assert.equal(config.learningRate, 0.01);
    assert.equal(config.embedding, DEFAULT_TRAIN_CONFIG.embedding);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['unknown cell', { cell: 'transformer' }, /cell must be one of rnn, gru, lstm/],
    ['fractional units', { units: 12.5 }, /units must be a whole number/],
    ['zero learning rate', { learningRate: 0 }, /learningRate must be a number above 0/],
    ['validation share too large', { valSplit: 0.9 }, /valSplit must be a number from 0 to 0.5/],
    ['NaN epochs', { epochs: Number.NaN }, /epochs must be a whole number/],
    ['unknown backend', { backend: 'gpu' }, /backend must be auto or one of/],
    ['unknown setting', { colour: 'blue' }, /Unknown training setting "colour"/],
    ['string for a number', { batch: '32' }, /batch must be a whole number/],
  ];
  for (const [name, overrides, message] of bad) {
    it(`rejects ${name} with one sentence`, () => {
      assert.throws(() => resolveTrainConfig(overrides as never), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    });
  }
});
