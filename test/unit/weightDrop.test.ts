import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import { weightDropSeed } from '../../src/core/dropoutSeeds';
import { buildModel, modelParts } from '../../src/core/model';
import { makeNetwork } from '../../src/core/network';
import { makeTrainer } from '../../src/core/train';
import { resolveTrainConfig } from '../../src/core/config';
import { dropRecurrentWeights } from '../../src/core/weightDrop';
import { CELL_TYPES } from '../../src/protocol/types';
import { maxAbsDifference, NATIVE_SKIP, randomBatch, useWasm } from './helpers';

const BACKENDS = [
  { backend: 'wasm', skip: false },
  { backend: 'tensorflow', skip: NATIVE_SKIP },
] as const;

for (const { backend, skip } of BACKENDS) {
  describe(`weight drop on ${backend}`, { skip }, () => {
    before(() => initBackend(backend));
    after(useWasm);

    it('drops about the asked-for share of a recurrent kernel, scaling the rest, the same for the same seed', () => {
      const model = buildModel({ cell: 'lstm', vocabSize: 20, embedding: 16, units: 64, layers: 1, dropout: 0 }, 1);
      const weights = modelParts(model).recurrent[0];
      const [first, again, other] = [5, 5, 6].map((seed) => dropRecurrentWeights(weights, 0.3, seed)!);
      const mask = first.mask.dataSync();
      const dropped = mask.filter((m) => m === 0).length / mask.length;
      assert.ok(Math.abs(dropped - 0.3) < 0.02, `dropped ${dropped} of the entries`);
      assert.ok(mask.every((m) => m === 0 || Math.abs(m - 1 / 0.7) < 1e-6));
      assert.deepEqual(again.mask.dataSync(), mask);
      assert.notDeepEqual(other.mask.dataSync(), mask);
      assert.equal(dropRecurrentWeights(weights, 0, 5), undefined);
      tf.dispose([first, again, other].flatMap((d) => [d.mask, d.weights.recurrentKernel]));
      model.dispose();
    });

    for (const cell of CELL_TYPES) {
      it(`${cell}: a step trains the masked recurrent kernels, and only the kept entries of each`, () => {
        const shape = { cell, vocabSize: 25, embedding: 6, units: 8, layers: 2, dropout: 0, inputDropout: 0 };
        const data = randomBatch(25, 3, 5, 7);
        const seed = 13;
        const model = buildModel(shape, 2);
        const dropping = makeNetwork(modelParts(model), false, 0.4).trainingStep(data, seed);
        // The same step without weight drop on a model whose recurrent kernels are the masked ones.
        const masked = buildModel(shape, 2);
        const masks = modelParts(masked).recurrent.map((weights, layer) => {
          const dropped = dropRecurrentWeights(weights, 0.4, weightDropSeed(seed, layer))!;
          (weights.recurrentKernel as tf.Variable).assign(dropped.weights.recurrentKernel);
          return dropped.mask;
        });
        const plain = makeNetwork(modelParts(masked)).trainingStep(data, seed);
        assert.ok(Math.abs(dropping.lossSum - plain.lossSum) < 1e-4, `loss ${dropping.lossSum} against ${plain.lossSum}`);
        const byWeight = (gradients: tf.NamedTensorMap) => Object.fromEntries(Object.entries(gradients).map(([name, g]) => [name.replace(/_\d+$/, ''), g]));
        const [expected, actual] = [byWeight(plain.gradients), byWeight(dropping.gradients)];
        assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
        for (const [name, gradient] of Object.entries(expected)) {
          const layer = /^\w+_(\d+)\/recurrent_kernel$/.exec(name);
          const wanted = layer ? tf.mul(gradient, masks[Number(layer[1]) - 1]) : gradient;
          const difference = maxAbsDifference(actual[name].dataSync(), wanted.dataSync());
          assert.ok(difference < 1e-5, `${name}: max abs difference ${difference}`);
        }
        tf.dispose([...Object.values(dropping.gradients), ...Object.values(plain.gradients), ...dropping.state.flat(), ...plain.state.flat(), ...masks]);
        model.dispose();
        masked.dispose();
      });
    }
  });
}

describe('weight drop settings', () => {
  before(useWasm);

  it('refuses a weight drop outside 0–0.9, and one the stock engine cannot apply, with one sentence', () => {
    assert.throws(() => resolveTrainConfig({ weightDrop: 1 }), /^UserError: weightDrop must be a number from 0 to 0\.9/);
    const model = buildModel({ cell: 'gru', vocabSize: 10, embedding: 4, units: 4, layers: 1, dropout: 0 }, 1);
    const settings = { epochs: 1, batch: 2, learningRate: 0.01, clipNorm: 5, patience: 0, seed: 1, weightDrop: 0.3 };
    assert.throws(() => makeTrainer(model, { ...settings, engine: 'stock' }), /^UserError: Weight drop runs on SeqLab's fast path only/);
    makeTrainer(model, { ...settings, engine: 'fast' }).dispose();
    model.dispose();
  });
});
