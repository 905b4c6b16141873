import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { chooseTrainingBackend } from '../../src/core/backendChoice';
import type { Batch } from '../../src/core/dataset';
import { NgramTeacher } from '../../src/core/distillation';
import { buildModel, startAtUnigram, type ModelShape } from '../../src/core/model';
import { FastTrainer } from '../../src/core/fast/trainer';
import { GradientLayout } from '../../src/core/parallel/gradients';
import { splitBatch } from '../../src/core/parallel/split';
import { ParallelTrainer } from '../../src/core/parallel/trainer';
import { Random } from '../../src/core/random';
import { trainModel } from '../../src/core/train';
import { loomingsSetup, makeTempDir, useWasm } from './helpers';

function batches(vocab: number, rows: number, seqLen: number, count: number): Batch[] {
  const random = new Random(5);
  const ids = () => Int32Array.from({ length: rows * seqLen }, () => random.int(vocab));
  return Array.from({ length: count }, (_, i) => ({ inputs: ids(), targets: ids(), rows, seqLen, continues: i > 0, before: ids().subarray(0, rows) }));
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((values, i) => values.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - b[i][j])))));
  return worst;
}

describe('splitting a batch between threads', () => {
  it('gives each part consecutive lanes, the extra ones to the first parts, and says where they sit', () => {
    const rows = 5;
    const seqLen = 3;
    const batch: Batch = {
      inputs: Int32Array.from({ length: rows * seqLen }, (_, i) => i),
      targets: Int32Array.from({ length: rows * seqLen }, (_, i) => 100 + i),
      rows,
      seqLen,
      continues: true,
      starts: Int32Array.from([10, 20, 30, 40, 50]),
    };
    const parts = splitBatch(batch, 2);
    assert.deepEqual(parts.map((p) => p.rows), [3, 2]);
    assert.deepEqual(parts.map((p) => p.part), [{ first: 0, total: 5 }, { first: 3, total: 5 }]);
    assert.deepEqual([...parts[1].inputs], [9, 10, 11, 12, 13, 14]);
    assert.deepEqual([...parts[1].targets], [109, 110, 111, 112, 113, 114]);
    assert.deepEqual([...parts[1].starts!], [40, 50]);
    assert.ok(parts.every((p) => p.continues));
    assert.equal(splitBatch(batch, 8).length, 5, 'never an empty part');
  });
});

describe('gradients between threads', () => {
  before(useWasm);

  it('writes every variable in its place, reads them back, and sums the parts by their weights', () => {
    const variables = [tf.variable(tf.zeros([2, 3])), tf.variable(tf.zeros([4]))];
    const layout = GradientLayout.of(variables);
    assert.equal(layout.size, 10);
    const gradients = { [variables[0].name]: tf.tensor2d([[1, 2, 3], [4, 5, 6]]), [variables[1].name]: tf.tensor1d([7, 8, 9, 10]) };
    const a = layout.newBuffer();
    const b = layout.newBuffer();
    assert.deepEqual(layout.write(variables, gradients, a), [true, true]);
    b.set([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    const sum = layout.newBuffer();
    layout.weightedSum([a, b], [0.75, 0.25], [true, false], sum);
    assert.deepEqual([...sum], [3.25, 6.5, 9.75, 13, 16.25, 19.5, 0, 0, 0, 0], 'an absent variable is left alone');
    const read = layout.read(variables, a, [true, true]);
    assert.deepEqual(read[variables[0].name].arraySync(), [[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(read[variables[1].name].arraySync(), [7, 8, 9, 10]);
    tf.dispose([...variables, ...Object.values(gradients), ...Object.values(read)]);
  });
});

describe('data-parallel training', () => {
  before(useWasm);
  after(useWasm);

  const settings = { learningRate: 3e-3, clipNorm: 5, seed: 3 };
  const cases: { label: string; shape: ModelShape; tie: boolean; rows: number; threads: number; distill?: number }[] = [
    { label: 'a tied LSTM with dropout everywhere, 2 threads', shape: { cell: 'lstm', vocabSize: 60, embedding: 16, units: 16, layers: 1, dropout: 0.5, inputDropout: 0.3 }, tie: true, rows: 6, threads: 2 },
    { label: 'a two-layer GRU, 3 threads over 7 lanes', shape: { cell: 'gru', vocabSize: 50, embedding: 8, units: 12, layers: 2, dropout: 0.3, inputDropout: 0 }, tie: false, rows: 7, threads: 3 },
    { label: 'an RNN with the trigram as a teacher, 2 threads over 5 lanes', shape: { cell: 'rnn', vocabSize: 40, embedding: 8, units: 8, layers: 1, dropout: 0, inputDropout: 0 }, tie: true, rows: 5, threads: 2, distill: 0.5 },
  ];
  for (const { label, shape, tie, rows, threads, distill } of cases) {
    it(`trains ${label} as one thread does, up to rounding, and every thread holds the same weights`, async () => {
      const data = batches(shape.vocabSize, rows, 5, 6);
      // Fitted on what the lanes read, each from the word before it, so the first step's context is one the trigram has seen.
      const lanes = data.flatMap((b) => Array.from({ length: b.rows }, (_, r) => [b.before![r], ...b.inputs.subarray(r * b.seqLen, (r + 1) * b.seqLen)]));
      const teacher = distill ? NgramTeacher.settings(distill, Int32Array.from(lanes.flat()), shape.vocabSize) : undefined;
      const run = async (count: number) => {
        const model = buildModel(shape, 9);
        startAtUnigram(model, data[0].targets);
        const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
        const trainerSettings = { ...settings, tieWeights: tie, teacher };
        const trainer = count === 1 ? new FastTrainer(model, variables, trainerSettings) : new ParallelTrainer(model, variables, trainerSettings, count);
        const losses: number[] = [];
        for (const batch of data) losses.push((await trainer.step(batch)).loss);
        const copies = trainer instanceof ParallelTrainer ? await trainer.weightsOfEveryThread() : [];
        const weights = variables.map((v) => v.dataSync().slice() as Float32Array);
        trainer.dispose();
        model.dispose();
        return { losses, weights, copies };
      };
      const one = await run(1);
      const many = await run(threads);
      assert.equal(many.copies.length, threads);
      for (const copy of many.copies.slice(1)) assert.equal(maxDifference(copy, many.copies[0]), 0, 'every thread applies the same update');
      one.losses.forEach((loss, i) => assert.ok(Math.abs(loss - many.losses[i]) < 1e-5, `step ${i + 1}: ${loss} against ${many.losses[i]}`));
      // Dropout and carried state as one thread has them: otherwise the weights would part by far more.
      assert.ok(maxDifference(one.weights, many.weights) < 1e-4, `weights differ by ${maxDifference(one.weights, many.weights)}`);
    });
  }

  it('keeps every copy equal when a batch has fewer lanes than there are threads', async () => {
    const shape: ModelShape = { cell: 'rnn', vocabSize: 30, embedding: 6, units: 6, layers: 1, dropout: 0, inputDropout: 0 };
    const model = buildModel(shape, 2);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const trainer = new ParallelTrainer(model, variables, settings, 3);
    try {
      for (const batch of [...batches(30, 3, 4, 1), ...batches(30, 2, 4, 2), ...batches(30, 3, 4, 2)]) await trainer.step({ ...batch, continues: false });
      const copies = await trainer.weightsOfEveryThread();
      for (const copy of copies.slice(1)) assert.equal(maxDifference(copy, copies[0]), 0);
    } finally {
      trainer.dispose(); // a thread left running would keep the test process alive
      model.dispose();
    }
  });

  it('steps without exchange for the scaling bench: each copy learns its own lanes alone, and the trainer trains no further', async () => {
    const shape: ModelShape = { cell: 'lstm', vocabSize: 40, embedding: 8, units: 8, layers: 1, dropout: 0.3, inputDropout: 0 };
    const [batch] = batches(40, 4, 5, 1);
    const fresh = () => {
      const model = buildModel(shape, 4);
      return { model, variables: model.trainableWeights.map((w) => w.read() as tf.Variable) };
    };
    const split = fresh();
    const trainer = new ParallelTrainer(split.model, split.variables, settings, 2);
    const alone = fresh();
    const reference = new FastTrainer(alone.model, alone.variables, settings);
    try {
      await trainer.stepWithoutExchange(batch);
      // This thread's copy is where one thread gets on its lanes alone, with the masks the whole batch would draw there.
      await reference.step(splitBatch(batch, 2)[0]);
      const [own, other] = await trainer.weightsOfEveryThread();
      assert.ok(maxDifference(own, alone.variables.map((v) => v.dataSync() as Float32Array)) < 1e-6);
      assert.ok(maxDifference(own, other) > 1e-4, 'the other thread learnt other lanes');
      await assert.rejects(trainer.step(batch), /no longer agree/);
    } finally {
      trainer.dispose();
      reference.dispose();
      split.model.dispose();
      alone.model.dispose();
    }
  });

  it('runs the training loop on 2 threads with the same curve as on one, and stops its threads at the end', async () => {
    const curve = async (threads: number) => {
      const { config, prepared, model } = loomingsSetup({ epochs: 2, units: 16, embedding: 16, batch: 4, backend: 'wasm', threads });
      startAtUnigram(model, prepared.split.train);
      const result = await trainModel(model, prepared.split, { ...config, threads });
      model.dispose();
      return result.history.map((m) => [m.loss, m.valLoss!]);
    };
    const one = await curve(1);
    const two = await curve(2);
    one.flat().forEach((value, i) => assert.ok(Math.abs(value - two.flat()[i]) < 1e-3, `${value} against ${two.flat()[i]}`));
  });

  it('chooses the threads by measurement under threads 0, remembers it, and keeps to a setting', async () => {
    const dir = await makeTempDir('threads');
    const cache = path.join(dir, '.backend-choice.json');
    const shape = { cell: 'lstm' as const, vocabSize: 40, embedding: 8, units: 8, layers: 1, dropout: 0, batch: 4, seqLen: 6 };
    const measured = await chooseTrainingBackend('wasm', shape, cache, 0, 2);
    assert.ok([1, 2].includes(measured.threads));
    assert.match(measured.reason, measured.threads === 2 ? /2 threads, [\d.]+× one on this model \(\d+ ms against \d+ ms a batch, measured\)/ : /one thread, as 2 were not faster on this model/);
    // What the cache says decides the next time: here, that two threads take half the time.
    const [key] = Object.keys(JSON.parse(await fs.readFile(cache, 'utf8')) as object);
    await fs.writeFile(cache, JSON.stringify({ [key]: { 1: 100, 2: 50 } }));
    const remembered = await chooseTrainingBackend('wasm', shape, cache, 0, 2);
    assert.deepEqual([remembered.threads, remembered.reason], [2, 'as set; 2 threads, 2.0× one on this model (50 ms against 100 ms a batch, measured earlier)']);
    await fs.writeFile(cache, JSON.stringify({ [key]: { 1: 100, 2: 97 } }));
    assert.equal((await chooseTrainingBackend('wasm', shape, cache, 0, 2)).threads, 1, 'within 5% one thread is kept');
    assert.equal((await chooseTrainingBackend('wasm', shape, cache, 0, 1)).threads, 1, 'one core: one thread, nothing measured');
    assert.deepEqual(await chooseTrainingBackend('wasm', shape, cache, 3, 2), { backend: 'wasm', threads: 3, reason: 'as set; 3 threads (the threads setting)' });
    assert.equal((await chooseTrainingBackend('wasm', shape, cache, 16, 2)).threads, 4, 'never more threads than lanes');
    await fs.rm(dir, { recursive: true });
  });
});
