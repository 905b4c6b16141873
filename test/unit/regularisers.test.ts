/**
 * The training options that make networks generalise on one person's text: a start at
 * the unigram distribution, tied input and output embeddings, dropout on the word
 * vectors, a decaying learning rate and averaged weights. Each must do what it says, and
 * a model trained with all of them must still be the standard layers plain TF.js loads.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { WeightAverage } from '../../src/core/averaging';
import { resolveTrainConfig } from '../../src/core/config';
import { evaluationBatches } from '../../src/core/dataset';
import { parameterParts } from '../../src/protocol/costs';
import { buildModel, countParams, modelParts, startAtUnigram } from '../../src/core/model';
import { scoreBatches } from '../../src/core/scoring';
import { trainModel } from '../../src/core/train';
import type { TrainConfig } from '../../src/protocol/types';
import { loomingsSetup, useWasm } from './helpers';

const SMALL: Partial<TrainConfig> = { embedding: 24, units: 24, seqLen: 16, batch: 8, epochs: 2, patience: 0, dropout: 0 };

const setup = (overrides: Partial<TrainConfig> = {}) => loomingsSetup(SMALL, overrides);

describe('regularisers', () => {
  before(useWasm);

  it('starts a model at the unigram distribution of its training tokens', async () => {
    const { config, prepared, model } = setup();
    const { train, validation } = prepared.split;
    const before = await scoreBatches(model, evaluationBatches(validation, config.seqLen, config.batch));
    startAtUnigram(model, train);
    const after = await scoreBatches(model, evaluationBatches(validation, config.seqLen, config.batch));
    model.dispose();
    // The add-one unigram's own cross-entropy on the validation targets, computed directly.
    const counts = new Float64Array(prepared.tokenizer.vocabSize).fill(1);
    for (const id of train) counts[id]++;
    const total = counts.reduce((a, b) => a + b, 0);
    let nats = 0;
    for (let i = 1; i < validation.length; i++) nats -= Math.log(counts[validation[i]] / total);
    const unigram = nats / (validation.length - 1);
    assert.ok(Math.abs(after.loss - unigram) < 0.05, `started at ${after.loss} nats, unigram is ${unigram}`);
    assert.ok(before.loss > unigram + 0.5, `a fresh model (${before.loss}) should be near uniform, far above the unigram`);
  });

  it('keeps the output kernel the transpose of the embeddings when weights are tied', async () => {
    const { config, prepared, model } = setup({ tieWeights: true });
    await trainModel(model, prepared.split, config);
    const parts = modelParts(model);
    const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(parts.outputKernel, tf.transpose(parts.embeddings)))).dataSync()[0]);
    const moved = tf.tidy(() => tf.max(tf.abs(parts.embeddings)).dataSync()[0]);
    model.dispose();
    assert.equal(difference, 0);
    assert.ok(moved > 0.06, 'the embeddings did not train (initialised within ±0.05)');
  });

  it('refuses tied weights when the embedding and the units differ', () => {
    assert.throws(() => resolveTrainConfig({ tieWeights: true, embedding: 16, units: 32 }), /tieWeights needs embedding equal to units/);
  });

  it('saves input dropout as a standard Dropout layer that inference skips', async () => {
    const { config, prepared, model } = setup({ inputDropout: 0.3 });
    assert.equal(model.layers[1].getClassName(), 'Dropout');
    assert.equal(modelParts(model).inputDropout, 0.3);
    await trainModel(model, prepared.split, config);
    // Inference ignores dropout: the layers' predict and the fast path score the same.
    const batch = evaluationBatches(prepared.split.validation, config.seqLen, config.batch)[0];
    const stock = await scoreBatches(model, [batch], false, 'stock');
    const fast = await scoreBatches(model, [batch], false, 'fast');
    model.dispose();
    assert.ok(Math.abs(stock.loss - fast.loss) < 1e-4, `stock ${stock.loss} vs fast ${fast.loss}`);
  });

  it('averages weights and puts the trained ones back after using the average', async () => {
    const variable = tf.variable(tf.tensor1d([0, 0]));
    const average = new WeightAverage([variable], 0.5);
    for (const value of [10, 10, 10, 10, 10, 10, 10, 10]) {
      variable.assign(tf.tensor1d([value, -value]));
      average.update();
    }
    const seen = await average.withAveraged(async () => Array.from(variable.dataSync()));
    assert.deepEqual(Array.from(variable.dataSync()), [10, -10]);
    // Starting from 0, eight updates with decay ≤ 0.5 leave at most 0.5⁸ of the start.
    assert.ok(seen[0] > 9.9 && seen[0] < 10 && seen[1] < -9.9, `average ${seen}`);
    average.dispose();
    variable.dispose();
  });

  it('trains with every regulariser on and validates with the averaged weights', async () => {
    const { config, prepared, model } = setup({ tieWeights: true, inputDropout: 0.2, dropout: 0.3, lrDecay: 0.5, averageDecay: 0.99, epochs: 3 });
    startAtUnigram(model, prepared.split.train);
    const result = await trainModel(model, prepared.split, config);
    // The kept weights are the best epoch's averaged ones: scoring them again gives its validation loss.
    const again = await scoreBatches(model, evaluationBatches(prepared.split.validation, config.seqLen, config.batch));
    model.dispose();
    assert.ok(Math.abs(again.loss - result.best.valLoss!) < 1e-4, `kept weights score ${again.loss}, best epoch said ${result.best.valLoss}`);
    assert.ok(result.history.every((m) => Number.isFinite(m.loss)));
  });
});

describe('parameters per part', () => {
  it('add up to the model buildModel makes, and the recurrent ones stand 1 : 3 : 4', () => {
    const recurrent: number[] = [];
    for (const cell of ['rnn', 'gru', 'lstm'] as const) {
      const shape = { cell, vocabSize: 300, embedding: 24, units: 32, layers: 2, dropout: 0 };
      const model = buildModel(shape, 1);
      const parts = parameterParts(shape);
      assert.equal(parts.embedding + parts.recurrent + parts.output, countParams(model));
      recurrent.push(parts.recurrent);
      model.dispose();
    }
    assert.deepEqual(recurrent.map((r) => r / recurrent[0]), [1, 3, 4]);
  });
});
