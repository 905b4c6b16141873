/**
 * Distillation from the trigram (distillation.ts): the shift of a batch's targets is
 * α·(P_KN − one-hot) of each row's own context, and every engine's gradients are those of
 * the cross-entropy against the shifted targets, computed here by TF.js autodiff.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import { trainingBatches, type Batch } from '../../src/core/dataset';
import { NgramTeacher, type TargetShift } from '../../src/core/distillation';
import { CandidateSampler } from '../../src/core/fast/candidates';
import { KneserNeyTrigram } from '../../src/core/kneserNey';
import { buildModel, modelParts } from '../../src/core/model';
import { makeNetwork } from '../../src/core/network';
import { Random } from '../../src/core/random';
import { windowLogits } from '../../src/core/scoring';
import { makeTrainer } from '../../src/core/train';
import { resolveTrainConfig } from '../../src/core/config';
import { CELL_TYPES } from '../../src/protocol/types';
import { FAST_PATH_BACKENDS, maxAbsDifference, NATIVE_SKIP, useWasm } from './helpers';

const VOCAB = 23;
const ALPHA = 0.4;

/** A stream with some structure (so the trigram has seen followers) and every id in it. */
function textStream(length: number, seed: number): Int32Array {
  const random = new Random(seed);
  const stream = new Int32Array(length);
  for (let i = 0; i < length; i++) stream[i] = i < VOCAB ? i : random.next() < 0.6 ? (stream[i - 1] * 3 + stream[i - 2]) % VOCAB : random.int(VOCAB);
  return stream;
}

const stream = textStream(600, 3);
const teacherSettings = NgramTeacher.settings(ALPHA, stream, VOCAB);
/** A batch from the middle of an epoch: its windows start mid-text, after a word. */
const batch: Batch = trainingBatches(stream, 6, 3, new Random(5))[4];

/** The shift as a dense table in the rows' time-major order [rows·seqLen, V]. */
function dense(shift: TargetShift, rows: number): Float64Array {
  const vocab = shift.lowestOrder.length;
  const out = new Float64Array(rows * vocab);
  for (let row = 0; row < rows; row++) for (let j = 0; j < vocab; j++) out[row * vocab + j] = shift.shares[row] * shift.lowestOrder[j];
  shift.weights.forEach((weight, k) => (out[shift.entries[2 * k] * vocab + shift.entries[2 * k + 1]] += weight));
  return out;
}

describe('the trigram teacher', () => {
  it("shifts each target by α·(P_KN − one-hot) of the row's two words before, the word before the window included", () => {
    const shift = new NgramTeacher(teacherSettings).shift(batch);
    const kn = KneserNeyTrigram.fit(stream, VOCAB);
    const table = dense(shift, batch.targets.length);
    assert.ok(batch.starts![0] > 0, 'the batch starts mid-text');
    for (let r = 0; r < batch.rows; r++) {
      for (let t = 0; t < batch.seqLen; t++) {
        const at = batch.starts![r] + t;
        const expected = kn.distribution(stream[at - 1], stream[at]);
        expected[stream[at + 1]] -= 1;
        const row = (t * batch.rows + r) * VOCAB;
        for (let j = 0; j < VOCAB; j++) {
          assert.ok(Math.abs(table[row + j] - ALPHA * expected[j]) < 1e-6, `lane ${r}, step ${t}, word ${j}: ${table[row + j]} vs ${ALPHA * expected[j]}`);
        }
      }
    }
  });

  it('over candidates that are every word, undrawn, shifts as over the vocabulary', () => {
    const teacher = new NgramTeacher(teacherSettings);
    const ids = Int32Array.from({ length: VOCAB }, (_, i) => (i * 7) % VOCAB);
    const overCandidates = dense(teacher.shift(batch, { ids, corrections: new Float32Array(VOCAB) }), batch.targets.length);
    const full = dense(teacher.shift(batch), batch.targets.length);
    for (let row = 0; row < batch.targets.length; row++) {
      ids.forEach((id, c) => assert.ok(Math.abs(overCandidates[row * VOCAB + c] - full[row * VOCAB + id]) < 1e-6, `row ${row}, word ${id}`));
    }
  });

  it("over a sample, keeps each row's teacher part at α, the drawn words raised by 1/π as their logits are", () => {
    const teacher = new NgramTeacher(teacherSettings);
    const candidates = new CandidateSampler(new Float64Array(VOCAB).fill(5), 4).draw(batch.targets, 9);
    const count = candidates.ids.length;
    assert.ok(count < VOCAB, 'some words are left out');
    const sampled = dense(teacher.shift(batch, candidates), batch.targets.length);
    const full = dense(teacher.shift(batch), batch.targets.length);
    const targets = Array.from({ length: batch.targets.length }, (_, row) => batch.targets[(row % batch.rows) * batch.seqLen + Math.floor(row / batch.rows)]);
    for (let row = 0; row < targets.length; row++) {
      const teacher = (c: number) => sampled[row * count + c] + (candidates.ids[c] === targets[row] ? ALPHA : 0);
      const total = Array.from(candidates.ids, (_, c) => teacher(c)).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - ALPHA) < 1e-5, `row ${row}: the teacher part sums to ${total}`);
      // Relative to the first candidate (a target, uncorrected), each candidate keeps P_KN · e^correction.
      const teacherFull = (id: number) => full[row * VOCAB + id] + (id === targets[row] ? ALPHA : 0);
      const ratio = teacher(0) / teacherFull(candidates.ids[0]);
      candidates.ids.forEach((id, c) => {
        const expected = teacherFull(id) * Math.exp(candidates.corrections[c]) * ratio;
        assert.ok(Math.abs(teacher(c) - expected) < 1e-5, `row ${row}, word ${id}: ${teacher(c)} vs ${expected}`);
      });
    }
  });

  it('refuses a share outside 0–0.9 with one sentence', () => {
    assert.throws(() => resolveTrainConfig({ distill: 1 }), /^UserError: distill must be a number from 0 to 0\.9/);
    assert.throws(() => resolveTrainConfig({ distill: -0.1 }), /^UserError: distill must be a number from 0 to 0\.9/);
  });
});

/** The mean cross-entropy against the shifted targets, by autodiff of the stock layers, and its gradients. */
function stockShiftedLoss(model: tf.LayersModel, shift: TargetShift) {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const rowsTimeMajor = dense(shift, batch.targets.length);
  // The stock logits are lane-major [rows·seqLen, V]: row r·seqLen + t.
  const targetTable = new Float32Array(batch.targets.length * VOCAB);
  for (let r = 0; r < batch.rows; r++) {
    for (let t = 0; t < batch.seqLen; t++) {
      const from = (t * batch.rows + r) * VOCAB;
      const to = (r * batch.seqLen + t) * VOCAB;
      for (let j = 0; j < VOCAB; j++) targetTable[to + j] = rowsTimeMajor[from + j];
      targetTable[to + batch.targets[r * batch.seqLen + t]] += 1;
    }
  }
  return tf.variableGrads(() => {
    const logits = windowLogits(model, tf.tensor2d(batch.inputs, [batch.rows, batch.seqLen], 'int32'), true);
    return tf.div(tf.neg(tf.sum(tf.mul(tf.tensor2d(targetTable, logits.shape), tf.logSoftmax(logits)))), batch.targets.length) as tf.Scalar;
  }, variables);
}


for (const { backend, skip } of FAST_PATH_BACKENDS) {
  describe(`distillation on ${backend}`, { skip }, () => {
    before(() => initBackend(backend));
    after(useWasm);

    for (const cell of CELL_TYPES) {
      it(`${cell}: the gradients are those of the cross-entropy against the shifted targets; the loss figure stays the text's`, () => {
        const model = buildModel({ cell, vocabSize: VOCAB, embedding: 8, units: 8, layers: 1, dropout: 0 }, 4);
        const shift = new NgramTeacher(teacherSettings).shift(batch);
        const expected = stockShiftedLoss(model, shift);
        const network = makeNetwork(modelParts(model));
        const distilled = network.trainingStep(batch, 1, undefined, undefined, shift);
        const plain = network.trainingStep(batch, 1);
        assert.equal(distilled.lossSum, plain.lossSum);
        let changed = 0;
        for (const v of model.trainableWeights.map((w) => w.read() as tf.Variable)) {
          const actual = distilled.gradients[v.name].dataSync();
          const difference = maxAbsDifference(actual, expected.grads[v.name].dataSync());
          assert.ok(difference < 1e-5, `${v.name}: max abs difference ${difference}`);
          changed = Math.max(changed, maxAbsDifference(actual, plain.gradients[v.name].dataSync()));
        }
        assert.ok(changed > 1e-3, `the teacher moved no gradient (by at most ${changed})`);
        tf.dispose([expected.value, ...Object.values(expected.grads), ...Object.values(distilled.gradients), ...Object.values(plain.gradients)]);
        tf.dispose([...distilled.state.flat(), ...plain.state.flat()]);
        model.dispose();
      });
    }
  });
}

describe('distillation on native TensorFlow', { skip: NATIVE_SKIP }, () => {
  after(useWasm);

  for (const sampled of [false, true]) {
    it(`takes the step wasm takes${sampled ? ', over a sampled softmax' : ''}`, async () => {
      const steps: Float32Array[][] = [];
      const candidates = sampled ? new CandidateSampler(new Float64Array(VOCAB).fill(5), 4).draw(batch.targets, 9) : undefined;
      const shift = new NgramTeacher(teacherSettings).shift(batch, candidates);
      for (const backend of ['wasm', 'tensorflow'] as const) {
        await initBackend(backend);
        const model = buildModel({ cell: 'lstm', vocabSize: VOCAB, embedding: 8, units: 8, layers: 1, dropout: 0 }, 4);
        const step = makeNetwork(modelParts(model)).trainingStep(batch, 1, undefined, candidates, shift);
        steps.push(model.trainableWeights.map((w) => step.gradients[(w.read() as tf.Variable).name].dataSync() as Float32Array));
        tf.dispose([...Object.values(step.gradients), ...step.state.flat()]);
        model.dispose();
      }
      steps[0].forEach((gradient, i) => {
        const difference = maxAbsDifference(gradient, steps[1][i]);
        assert.ok(difference < 1e-5, `variable ${i}: max abs difference ${difference}`);
      });
    });
  }
});

describe('distillation in the trainers', () => {
  before(useWasm);

  it('the stock engine takes the step the fast path takes, and reports the same loss', () => {
    const losses: number[] = [];
    const updates: Float32Array[][] = [];
    for (const engine of ['stock', 'fast'] as const) {
      const model = buildModel({ cell: 'gru', vocabSize: VOCAB, embedding: 8, units: 8, layers: 1, dropout: 0 }, 4);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const initial = variables.map((v) => v.dataSync().slice() as Float32Array);
      const trainer = makeTrainer(model, { engine, epochs: 1, batch: 3, learningRate: 0.01, clipNorm: 5, patience: 0, seed: 1, teacher: teacherSettings });
      losses.push(trainer.step(batch).loss);
      updates.push(variables.map((v, i) => (v.dataSync() as Float32Array).map((x, j) => x - initial[i][j])));
      trainer.dispose();
      model.dispose();
    }
    assert.ok(Math.abs(losses[0] - losses[1]) < 1e-5, `loss ${losses[0]} vs ${losses[1]}`);
    updates[0].forEach((update, i) => {
      const difference = maxAbsDifference(update, updates[1][i]);
      assert.ok(difference < 1e-4, `variable ${i}: the updates differ by up to ${difference}`);
    });
  });
});
