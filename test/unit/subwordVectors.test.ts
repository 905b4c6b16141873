/**
 * Subword vectors (subwordVectors.ts): which letter groups a vocabulary shares, the sparse
 * products on every backend, and that keeping E and adding M·ΔG trains exactly what Adam on
 * E = own + M·G with both parts free would train.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import { trainingBatches } from '../../src/core/dataset';
import { ClippedAdam } from '../../src/core/fast/adam';
import { buildModel } from '../../src/core/model';
import { Random } from '../../src/core/random';
import { letterGroups, subwordSettings, SubwordVectors, type SubwordSettings } from '../../src/core/subwordVectors';
import { makeTrainer } from '../../src/core/train';
import { FAST_PATH_BACKENDS, maxAbsDifference, useWasm } from './helpers';

const VOCAB = ['<unk>', 'whale', 'Whales', 'whaling', ',', 'ship', 'shipmates', 'the'];

/** M as a dense [words, groups] table. */
function denseMatrix(settings: SubwordSettings): number[][] {
  const rows = VOCAB.map(() => new Array<number>(settings.groups).fill(0));
  for (let word = 0; word < VOCAB.length; word++) {
    for (let k = settings.starts[word]; k < settings.starts[word + 1]; k++) rows[word][settings.groupIds[k]] = settings.weights[k];
  }
  return rows;
}

describe('letter groups', () => {
  it('are the 3- and 4-letter runs of "<word>", case folded', () => {
    assert.deepEqual(
      [...letterGroups('Whales')].sort(),
      ['<wh', 'wha', 'hal', 'ale', 'les', 'es>', '<wha', 'whal', 'hale', 'ales', 'les>'].sort(),
    );
    assert.equal(letterGroups('<unk>').size, 0);
  });

  it('are the 2- and 3-letter runs in Chinese, Japanese and Korean, so words share a character', () => {
    assert.deepEqual([...letterGroups('天下')].sort(), ['<天', '天下', '下>', '<天下', '天下>'].sort());
    assert.deepEqual([...letterGroups('之')].sort(), ['<之', '之>', '<之>'].sort());
    const settings = subwordSettings(['<unk>', '天下', '天子', '下']);
    // "<天" joins 天下 and 天子, "下>" joins 天下 and 下; nothing else is shared.
    assert.equal(settings.groups, 2);
    assert.deepEqual(Array.from(settings.starts), [0, 0, 2, 3, 4]);
  });

  it('a word keeps the groups another word has too, each weighted 1/√(its count)', () => {
    const settings = subwordSettings(VOCAB);
    const groupsOf = (word: string) => settings.starts[VOCAB.indexOf(word) + 1] - settings.starts[VOCAB.indexOf(word)];
    // whale: <wh wha hal ale <wha whal hale (le> is whale's alone; hal also in whaling, ale and hale in Whales).
    assert.equal(groupsOf('whale'), 7);
    // ship shares <sh shi hip <shi ship with shipmates; ip> and hip> are its own.
    assert.equal(groupsOf('ship'), 5);
    for (const alone of ['<unk>', ',', 'the']) assert.equal(groupsOf(alone), 0, alone);
    const matrix = denseMatrix(settings);
    const whale = matrix[VOCAB.indexOf('whale')].filter((w) => w > 0);
    assert.ok(whale.every((w) => Math.abs(w - 1 / Math.sqrt(7)) < 1e-7));
    // Every kept group is some two words'.
    for (let g = 0; g < settings.groups; g++) assert.ok(matrix.filter((row) => row[g] > 0).length >= 2, `group ${g}`);
  });
});

for (const { backend, skip } of FAST_PATH_BACKENDS) {
  describe(`the sparse products on ${backend}`, { skip }, () => {
    before(() => initBackend(backend));
    after(useWasm);

    // 8 runs the SIMD kernel on wasm, 6 the loop.
    for (const size of [8, 6]) {
      it(`Mᵀ·g and M·ΔG equal the dense products (rows of ${size})`, () => {
        const settings = subwordSettings(VOCAB);
        const matrix = tf.tensor2d(denseMatrix(settings));
        const embeddings = tf.variable(tf.randomNormal([VOCAB.length, size], 0, 1, 'float32', 3));
        const vectors = new SubwordVectors(settings, embeddings);
        // Every other word without gradient, as most are in a sampled step: those rows are passed over.
        const withGradient = tf.tensor2d(VOCAB.map((_, word) => word % 2), [VOCAB.length, 1]);
        const g = tf.mul(tf.randomNormal([VOCAB.length, size], 0, 1, 'float32', 4), withGradient) as tf.Tensor2D;
        const groupGradient = vectors.gradient(g);
        const expected = tf.matMul(matrix, g, true, false);
        assert.ok(maxAbsDifference(groupGradient.dataSync(), expected.dataSync()) < 1e-5);

        const before = embeddings.dataSync().slice();
        const step = tf.randomNormal([settings.groups, size], 0, 1, 'float32', 5);
        vectors.step.assign(step);
        vectors.addStep();
        const added = tf.sub(embeddings, tf.tensor(before, embeddings.shape));
        assert.ok(maxAbsDifference(added.dataSync(), tf.matMul(matrix, step).dataSync()) < 1e-5);
        assert.equal(tf.sum(tf.abs(vectors.step)).dataSync()[0], 0, 'the step is cleared for the next');
        tf.dispose([matrix, embeddings, withGradient, g, groupGradient, expected, step, added]);
        vectors.dispose();
      });
    }
  });
}

describe('training with subword vectors', () => {
  before(useWasm);

  it('keeps E = own + M·G of Adam on own and G as free weights, clipped together', () => {
    const settings = subwordSettings(VOCAB);
    const matrix = tf.tensor2d(denseMatrix(settings));
    const size = 8;
    const target = tf.randomNormal([VOCAB.length, size], 0, 1, 'float32', 7);
    // Any smooth loss of E; its gradient is large enough that clipping at 1 acts.
    const lossOf = (e: tf.Tensor) => tf.sum(tf.square(tf.sub(tf.mul(e, e), target)));

    const own = tf.variable(tf.randomNormal([VOCAB.length, size], 0, 0.5, 'float32', 8));
    const groups = tf.variable(tf.zeros([settings.groups, size]));
    const reference = new ClippedAdam({ learningRate: 0.05, clipNorm: 1 });
    const embeddings = tf.variable(own.clone());
    const vectors = new SubwordVectors(settings, embeddings);
    const optimizer = new ClippedAdam({ learningRate: 0.05, clipNorm: 1 });
    for (let step = 0; step < 5; step++) {
      const free = tf.variableGrads(() => lossOf(tf.add(own, tf.matMul(matrix, groups))) as tf.Scalar, [own, groups]);
      reference.apply([own, groups], free.grads);
      const g = tf.grad(lossOf)(embeddings);
      optimizer.apply([embeddings, vectors.step], { [embeddings.name]: g, [vectors.step.name]: vectors.gradient(g) });
      vectors.addStep();
      tf.dispose([free.value, ...Object.values(free.grads), g]);
    }
    const expected = tf.add(own, tf.matMul(matrix, groups));
    const difference = maxAbsDifference(embeddings.dataSync(), expected.dataSync());
    assert.ok(difference < 1e-5, `max abs difference ${difference}`);
    // The groups moved: words that share them moved together, not just each on its own.
    assert.ok(tf.max(tf.abs(groups)).dataSync()[0] > 0.01);
    tf.dispose([matrix, target, own, groups, embeddings, expected]);
    vectors.dispose();
    reference.dispose();
    optimizer.dispose();
  });

  it('the stock engine takes the step the fast path takes', () => {
    const stream = Int32Array.from({ length: 200 }, (_, i) => (i * 7 + (i >> 3)) % VOCAB.length);
    const batch = trainingBatches(stream, 6, 3, new Random(5))[2];
    const updates: Float32Array[][] = [];
    const runs = [
      { engine: 'stock', subwords: subwordSettings(VOCAB) },
      { engine: 'fast', subwords: subwordSettings(VOCAB) },
      { engine: 'fast', subwords: undefined },
    ] as const;
    for (const { engine, subwords } of runs) {
      const model = buildModel({ cell: 'gru', vocabSize: VOCAB.length, embedding: 8, units: 8, layers: 1, dropout: 0 }, 4);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const initial = variables.map((v) => v.dataSync().slice() as Float32Array);
      const trainer = makeTrainer(model, { engine, epochs: 1, batch: 3, learningRate: 0.01, clipNorm: 5, patience: 0, seed: 1, subwords });
      trainer.step(batch);
      updates.push(variables.map((v, i) => (v.dataSync() as Float32Array).map((x, j) => x - initial[i][j])));
      trainer.dispose();
      model.dispose();
    }
    updates[0].forEach((update, i) => {
      const difference = maxAbsDifference(update, updates[1][i]);
      assert.ok(difference < 1e-4, `variable ${i}: the updates differ by up to ${difference}`);
    });
    // The embeddings' update is not the one without subword vectors.
    assert.ok(maxAbsDifference(updates[1][0], updates[2][0]) > 1e-3);
  });
});
