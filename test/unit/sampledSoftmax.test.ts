import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { CandidateSampler } from '../../src/core/fast/candidates';
import { initBackend } from '../../src/core/backend';
import { buildModel, modelParts, startAtUnigram, type ModelShape } from '../../src/core/model';
import { makeNetwork } from '../../src/core/network';
import { Random } from '../../src/core/random';
import { trainModel } from '../../src/core/train';
import type { CellType } from '../../src/protocol/types';
import { loomingsSetup, maxAbsDifference, NATIVE_SKIP, randomBatch, useWasm } from './helpers';

describe('candidate words of a sampled softmax', () => {
  it('holds every target once, then distinct drawn words, frequent ones more often, the same for a seed', () => {
    const counts = Array.from({ length: 200 }, (_, id) => (id === 7 ? 5000 : id === 150 ? 0 : 10));
    const sampler = new CandidateSampler(counts, 20);
    const targets = Int32Array.from([3, 3, 9, 4, 9]);
    const { ids, corrections } = sampler.draw(targets, 1);
    assert.deepEqual([...ids.slice(0, 3)], [3, 9, 4]);
    assert.equal(ids.length, 23);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...corrections.slice(0, 3)], [0, 0, 0]);
    assert.ok(corrections.slice(3).every((c) => c > 0), 'a drawn word stands for more than itself: −log π > 0');
    assert.deepEqual(sampler.draw(targets, 1), { ids, corrections });
    let frequent = 0;
    let rare = 0;
    for (let seed = 0; seed < 200; seed++) {
      const drawn = sampler.draw(targets, seed).ids;
      if (drawn.includes(7)) frequent++;
      if (drawn.includes(150)) rare++;
    }
    assert.ok(frequent > 190 && rare < 60, `word 7 drawn in ${frequent} of 200 steps, word 150 in ${rare}`);
  });
});

/** Every backend with a fast path that can train on a sampled softmax, and why one is skipped here. */
const BACKENDS = [
  { backend: 'wasm', skip: false },
  { backend: 'tensorflow', skip: NATIVE_SKIP },
] as const;

for (const { backend, skip } of BACKENDS) {
  describe(`sampled softmax on the fast path, ${backend}`, { skip }, () => {
    before(() => initBackend(backend));
    after(useWasm);

    for (const tied of [true, false]) {
      it(`computes the full softmax's gradients when every word is a candidate (${tied ? 'tied' : 'untied'} weights)`, () => {
        const shape: ModelShape = { cell: 'gru', vocabSize: 30, embedding: 12, units: 12, layers: 1, dropout: 0.3, inputDropout: 0.2 };
        const model = buildModel(shape, 4);
        const network = makeNetwork(modelParts(model), tied);
        network.tieOutputKernel();
        const data = randomBatch(30, 3, 5, 2);
        const permutation = new Random(3).shuffle(Array.from({ length: 30 }, (_, i) => i));
        const full = network.trainingStep(data, 11);
        const sampled = network.trainingStep(data, 11, undefined, { ids: Int32Array.from(permutation), corrections: new Float32Array(30) });
        assert.deepEqual(Object.keys(sampled.gradients).sort(), Object.keys(full.gradients).sort());
        for (const [name, gradient] of Object.entries(full.gradients)) {
          const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(gradient, sampled.gradients[name]))).dataSync()[0]);
          assert.ok(difference < 1e-6, `${name}: ${difference}`);
        }
        tf.dispose([...Object.values(full.gradients), ...Object.values(sampled.gradients), ...full.state.flat(), ...sampled.state.flat()]);
        model.dispose();
      });
    }

    for (const tied of [true, false]) {
      it(`reports the full softmax's loss and accuracy from one row in 8, across the lanes, standing for all rows (${tied ? 'tied' : 'untied'} weights)`, () => {
        const shape: ModelShape = { cell: 'lstm', vocabSize: 40, embedding: 8, units: 8, layers: 1, dropout: 0, inputDropout: 0 };
        const model = buildModel(shape, 5);
        const network = makeNetwork(modelParts(model), tied);
        network.tieOutputKernel();
        const data = randomBatch(40, 4, 6, 8); // 24 rows: rows 0, 9 and 18 are scored (lanes 0, 1 and 2)
        const sampler = new CandidateSampler(new Array(40).fill(1), 5);
        const step = network.trainingStep(data, 1, undefined, sampler.draw(data.targets, 1));
        const { logProbabilities } = network.targetLogProbabilities(data);
        const expected = -[0, 9, 18].reduce((sum, row) => sum + logProbabilities[row], 0) * (24 / 3);
        assert.ok(Math.abs(step.lossSum - expected) < 1e-3, `${step.lossSum} against ${expected}`);
        tf.dispose([...Object.values(step.gradients), ...step.state.flat()]);
        model.dispose();
      });
    }

    it('trains on a sampled softmax until the last epoch, which scores every word', async () => {
      const fullSoftmax: boolean[] = [];
      const { config, prepared, model } = loomingsSetup({ epochs: 3, units: 16, embedding: 16, backend, softmaxSamples: 50, patience: 0 });
      assert.ok(prepared.tokenizer.vocabSize > 100);
      startAtUnigram(model, prepared.split.train);
      const result = await trainModel(model, prepared.split, config, { onCheckpoint: (c) => void fullSoftmax.push(c.trainer.fullSoftmax === true) });
      model.dispose();
      // Epochs 1 and 2 sample (unless epoch 2 did not improve); epoch 3 is the last and scores every word.
      assert.equal(fullSoftmax[0], false);
      assert.equal(fullSoftmax[1], true);
      assert.ok(result.history.every((m) => Number.isFinite(m.loss) && m.valLoss! < Math.log(prepared.tokenizer.vocabSize)));
    });
  });
}

describe('sampled softmax on native TensorFlow', { skip: NATIVE_SKIP }, () => {
  after(useWasm);

  /** One sampled step's gradients and loss figures on `backend`, from the same weights, batch and drawn words. */
  async function sampledStep(backend: 'wasm' | 'tensorflow', cell: CellType, tied: boolean) {
    await initBackend(backend);
    const model = buildModel({ cell, vocabSize: 60, embedding: 10, units: 10, layers: 2, dropout: 0, inputDropout: 0 }, 6);
    const network = makeNetwork(modelParts(model), tied);
    network.tieOutputKernel();
    const data = randomBatch(60, 3, 7, 9);
    const sampler = new CandidateSampler(Array.from({ length: 60 }, (_, id) => 60 - id), 12);
    const step = network.trainingStep(data, 1, undefined, sampler.draw(data.targets, 4));
    // By layer and weight: TF.js numbers the names of the second model's variables.
    const gradients = Object.fromEntries(Object.entries(step.gradients).map(([name, g]) => [name.replace(/_\d+$/, ''), g.dataSync() as Float32Array]));
    tf.dispose([...Object.values(step.gradients), ...step.state.flat()]);
    model.dispose();
    tf.disposeVariables();
    return { gradients, lossSum: step.lossSum, top1: step.top1 };
  }

  for (const [cell, tied] of [['lstm', true], ['gru', false], ['rnn', true]] as const) {
    it(`${cell}, ${tied ? 'tied' : 'untied'}: the same gradients and figures as SeqLab's kernels for the same drawn words`, async () => {
      const expected = await sampledStep('wasm', cell, tied);
      const native = await sampledStep('tensorflow', cell, tied);
      assert.deepEqual(Object.keys(native.gradients).sort(), Object.keys(expected.gradients).sort());
      for (const [name, values] of Object.entries(expected.gradients)) {
        const difference = maxAbsDifference(native.gradients[name], values);
        assert.ok(difference < 1e-5, `${name}: max abs difference ${difference}`);
      }
      assert.ok(Math.abs(native.lossSum - expected.lossSum) < 1e-3, `loss ${native.lossSum} against ${expected.lossSum}`);
      assert.equal(native.top1, expected.top1);
    });
  }
});
