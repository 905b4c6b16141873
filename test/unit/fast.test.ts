/**
 * The fast path computes the same function as the stock tf.layers model: forward outputs
 * on random weights and inputs, gradients against TF.js' autodiff of the stock layers and
 * against finite differences, dropout included. On wasm (the tests' backend) and cpu with
 * SeqLab's kernels, and on native TensorFlow with its own ops where tfjs-node is built.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import type { Batch } from '../../src/core/dataset';
import { ClippedAdam } from '../../src/core/fast/adam';
import { dropout, stackTrainingSteps } from '../../src/core/fast/layout';
import { simdActive } from '../../src/core/fast/wasm/simd';
import { buildModel, modelParts, type ModelShape } from '../../src/core/model';
import { makeNetwork } from '../../src/core/network';
import { Random } from '../../src/core/random';
import { meanCrossEntropy, scoreBatches, windowLogits } from '../../src/core/scoring';
import { CELL_TYPES, type CellType } from '../../src/protocol/types';
import { FAST_PATH_BACKENDS, maxAbsDifference, NATIVE_SKIP, randomBatch, useWasm } from './helpers';

/** A model with its weights replaced by large random ones, so every gate matters. */
function randomModel(shape: ModelShape, seed: number): tf.LayersModel {
  const model = buildModel(shape, seed);
  const weights = model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', seed * 100 + i));
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

function assignValues(variable: tf.Variable, values: Float32Array): void {
  const tensor = tf.tensor(values, variable.shape);
  variable.assign(tensor);
  tensor.dispose();
}

/** The stock model's log-probability of every target of a batch, time-major like the networks'. */
function stockTargetLogProbabilities(model: tf.LayersModel, batch: Batch): Float32Array {
  const logProbabilities = tf.tidy(() => tf.logSoftmax(windowLogits(model, tf.tensor2d(batch.inputs, [batch.rows, batch.seqLen], 'int32'), false)));
  const values = logProbabilities.dataSync() as Float32Array;
  const vocab = logProbabilities.shape[1];
  logProbabilities.dispose();
  const out = new Float32Array(batch.targets.length);
  for (let r = 0; r < batch.rows; r++) {
    for (let t = 0; t < batch.seqLen; t++) {
      const row = r * batch.seqLen + t;
      out[t * batch.rows + r] = values[row * vocab + batch.targets[row]];
    }
  }
  return out;
}

/**
 * Units 9 run the kernels' JavaScript loops; units 8 (a multiple of four) their SIMD twins
 * on wasm. Vocabulary 37 and 3 windows of 6 leave ragged edges for the vector code.
 */
const shapeOf = (cell: CellType, overrides: Partial<ModelShape> = {}): ModelShape => ({
  cell,
  vocabSize: 37,
  embedding: 7,
  units: 9,
  layers: 2,
  dropout: 0,
  ...overrides,
});

const BACKENDS = FAST_PATH_BACKENDS;

for (const { backend, skip } of BACKENDS) {
  describe(`fast path on ${backend}`, { skip }, () => {
    before(() => initBackend(backend));
    after(useWasm);

    if (backend === 'wasm') {
      it('runs the SIMD kernels', () => assert.ok(simdActive(), 'WebAssembly SIMD kernels did not load'));
    }

    for (const [cell, units] of CELL_TYPES.flatMap((c) => [9, 8].map((u) => [c, u] as const))) {
      it(`${cell}, ${units} units: every target's log-probability matches the tf.layers model on random weights`, () => {
        const model = randomModel(shapeOf(cell, { units }), 1);
        const batch = randomBatch(37, 3, 6, 2);
        const expected = stockTargetLogProbabilities(model, batch);
        const result = makeNetwork(modelParts(model)).targetLogProbabilities(batch);
        const difference = maxAbsDifference(result.logProbabilities, expected);
        tf.dispose(result.state.flat());
        model.dispose();
        assert.ok(difference < 1e-4, `max abs difference ${difference}`);
      });

      it(`${cell}, ${units} units: gradients match TF.js autodiff of the stock layers`, () => {
        const model = randomModel(shapeOf(cell, { units }), 3);
        const batch = randomBatch(37, 3, 6, 4);
        const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
        const stock = tf.variableGrads(
          () => meanCrossEntropy(windowLogits(model, tf.tensor2d(batch.inputs, [3, 6], 'int32'), true), batch.targets),
          variables,
        );
        const fast = makeNetwork(modelParts(model)).trainingStep(batch, 1);
        assert.ok(Math.abs(fast.lossSum / batch.targets.length - stock.value.dataSync()[0]) < 1e-5);
        for (const v of variables) {
          const difference = maxAbsDifference(fast.gradients[v.name].dataSync(), stock.grads[v.name].dataSync());
          assert.ok(difference < 1e-4, `${v.name}: max abs difference ${difference}`);
        }
        tf.dispose([stock.value, ...Object.values(stock.grads), ...Object.values(fast.gradients)]);
        model.dispose();
      });
    }

    it('scores batches like the stock path, top-5 included', async () => {
      const model = randomModel(shapeOf('lstm', { vocabSize: 23 }), 5);
      const batches = [randomBatch(23, 4, 5, 6), randomBatch(23, 1, 3, 7)];
      const fast = await scoreBatches(model, batches, true, 'fast');
      const stock = await scoreBatches(model, batches, true, 'stock');
      assert.ok(Math.abs(fast.loss - stock.loss) < 1e-5, `${fast.loss} vs ${stock.loss}`);
      assert.equal(fast.accuracy, stock.accuracy);
      assert.equal(fast.top5Accuracy, stock.top5Accuracy);
      model.dispose();
    });
  });
}

describe('fast path gradients against finite differences', () => {
  after(useWasm);

  /**
   * Central differences of the training loss (dropout on, its mask fixed by the seed) for
   * every weight of a tiny model, against the hand-written backward pass.
   */
  for (const [cell, { backend, skip }] of CELL_TYPES.flatMap((c) => [BACKENDS[0], BACKENDS[2]].map((b) => [c, b] as const))) {
    it(`${cell} on ${backend}: every weight's gradient, with dropout on the inputs and between the layers`, { skip }, async () => {
      await initBackend(backend);
      const model = randomModel(shapeOf(cell, { vocabSize: 6, embedding: 3, units: 4, dropout: 0.3, inputDropout: 0.2 }), 7);
      const batch = randomBatch(6, 2, 4, 8);
      const network = makeNetwork(modelParts(model));
      const seed = 11;
      const loss = () => {
        const step = network.trainingStep(batch, seed);
        tf.dispose(Object.values(step.gradients));
        return step.lossSum / batch.targets.length;
      };
      const { gradients } = network.trainingStep(batch, seed);
      const epsilon = 1e-2;
      let worst = 0;
      for (const variable of model.trainableWeights.map((w) => w.read() as tf.Variable)) {
        const values = variable.dataSync().slice() as Float32Array;
        const analytic = gradients[variable.name].dataSync();
        for (let i = 0; i < values.length; i++) {
          const at = (delta: number) => {
            const moved = values.slice();
            moved[i] += delta;
            assignValues(variable, moved);
            return loss();
          };
          const numeric = (at(epsilon) - at(-epsilon)) / (2 * epsilon);
          const error = Math.abs(numeric - analytic[i]) / (1e-2 + Math.abs(numeric) + Math.abs(analytic[i]));
          worst = Math.max(worst, error);
          assert.ok(error < 2e-2, `${variable.name}[${i}]: numeric ${numeric}, analytic ${analytic[i]}`);
        }
        assignValues(variable, values);
      }
      tf.dispose(Object.values(gradients));
      model.dispose();
      assert.ok(worst < 2e-2);
    });
  }
});

describe('fast path dropout', () => {
  before(useWasm);
  after(useWasm);

  it('drops about `rate` of the outputs, scales the rest by 1/(1 − rate), and repeats for a seed', () => {
    const steps = Array.from({ length: 20 }, (_, t) => tf.fill([10, 50], t + 1) as tf.Tensor2D);
    const input = tf.zeros([200, 3]) as tf.Tensor2D;
    const initial = tf.zeros([10, 50]) as tf.Tensor2D;
    const run = (seed: number) => stackTrainingSteps(input, steps, initial, { rate: 0.25, seed, lanes: { first: 0, total: 10, rows: 10 }, withOnes: false });
    const a = run(1);
    const b = run(1);
    const c = run(2);
    const mask = a.mask!.dataSync();
    const output = a.output.dataSync();
    const dropped = mask.filter((m) => m === 0).length / mask.length;
    assert.ok(Math.abs(dropped - 0.25) < 0.03, `dropped ${dropped}`);
    assert.ok(mask.every((m) => m === 0 || Math.abs(m - 1 / 0.75) < 1e-6));
    for (let i = 0; i < output.length; i++) assert.ok(Math.abs(output[i] - (Math.floor(i / 500) + 1) * mask[i]) < 1e-5);
    assert.deepEqual(b.mask!.dataSync(), mask);
    assert.notDeepEqual(c.mask!.dataSync(), mask);
    tf.dispose([...steps, input, initial, ...[a, b, c].flatMap((s) => [s.output, s.mask!, s.gradientInputs!])]);
  });

  it('masks some lanes of a batch exactly as the whole batch masks them there (data-parallel shards)', () => {
    const [steps, total, width] = [7, 10, 13];
    const maskOf = (first: number, rows: number) =>
      tf.tidy(() => dropout(tf.ones([steps * rows, width]), 0.4, 99, { first, total, rows }).mask.arraySync());
    const whole = maskOf(0, total);
    for (const [first, rows] of [[0, 4], [4, 3], [7, 3], [9, 1]]) {
      const mask = maskOf(first, rows);
      for (let t = 0; t < steps; t++) {
        for (let r = 0; r < rows; r++) assert.deepEqual(mask[t * rows + r], whole[t * total + first + r], `step ${t}, lane ${first + r}`);
      }
    }
  });

  for (const { backend, skip } of [BACKENDS[0], BACKENDS[2]]) {
    it(`applies in training only on ${backend}: the training loss differs from the inference loss, and varies with the seed`, { skip }, async () => {
      await initBackend(backend);
      const model = randomModel(shapeOf('gru', { dropout: 0.5 }), 9);
      const batch = randomBatch(37, 4, 6, 10);
      const network = makeNetwork(modelParts(model));
      const trainingLoss = (seed: number) => {
        const step = network.trainingStep(batch, seed);
        tf.dispose(Object.values(step.gradients));
        return step.lossSum;
      };
      const inference = network.score(batch, false).lossSum;
      assert.equal(trainingLoss(1), trainingLoss(1));
      assert.notEqual(trainingLoss(1), trainingLoss(2));
      assert.notEqual(trainingLoss(1), inference);
      model.dispose();
    });
  }
});

describe('dropout on native TensorFlow', { skip: NATIVE_SKIP }, () => {
  after(useWasm);

  it('drops what wasm drops for the same seed: the same training loss and gradients', async () => {
    const steps: { lossSum: number; gradients: Float32Array[] }[] = [];
    for (const backend of ['wasm', 'tensorflow'] as const) {
      await initBackend(backend);
      const model = randomModel(shapeOf('lstm', { units: 8, dropout: 0.5, inputDropout: 0.3 }), 12);
      const step = makeNetwork(modelParts(model)).trainingStep(randomBatch(37, 3, 6, 13), 5);
      // In model order: the two models' variables have different names.
      const gradients = model.trainableWeights.map((w) => step.gradients[(w.read() as tf.Variable).name].dataSync() as Float32Array);
      steps.push({ lossSum: step.lossSum, gradients });
      tf.dispose([...Object.values(step.gradients), ...step.state.flat()]);
      model.dispose();
    }
    const [wasm, native] = steps;
    assert.ok(Math.abs(wasm.lossSum - native.lossSum) < 1e-4 * Math.abs(wasm.lossSum), `${wasm.lossSum} vs ${native.lossSum}`);
    wasm.gradients.forEach((gradient, i) => {
      const difference = maxAbsDifference(gradient, native.gradients[i]);
      assert.ok(difference < 1e-4, `variable ${i}: max abs difference ${difference}`);
    });
  });
});

describe('clipped Adam on native TensorFlow', { skip: NATIVE_SKIP }, () => {
  after(useWasm);

  /** Three steps of the optimizer on fixed weights and gradients, from a fresh optimizer, on `backend`. */
  async function threeSteps(backend: 'wasm' | 'tensorflow'): Promise<Float32Array[]> {
    await initBackend(backend);
    const random = new Random(5);
    const values = (n: number) => Float32Array.from({ length: n }, () => random.next() * 2 - 1);
    const initial = values(6 * 4);
    const variables = [tf.variable(tf.tensor2d(initial, [6, 4])), tf.variable(tf.tensor1d(values(4)))];
    const optimizer = new ClippedAdam({ learningRate: 0.01, clipNorm: 1 });
    for (let step = 0; step < 3; step++) {
      // Gradients large enough that clipping to norm 1 matters.
      const gradients = Object.fromEntries(variables.map((v) => [v.name, tf.mul(tf.tensor(values(v.size), v.shape), 3)]));
      optimizer.apply(variables, gradients);
      tf.dispose(Object.values(gradients));
    }
    const result = variables.map((v) => v.dataSync().slice() as Float32Array);
    // Three steps of 0.01 moved every weight (an optimizer that did nothing would agree with itself too).
    assert.ok(result[0].every((w, i) => Math.abs(w - initial[i]) > 1e-3), 'every weight moved');
    optimizer.dispose();
    tf.dispose(variables);
    return result;
  }

  it('takes the same steps as the wasm kernel, clipping included', async () => {
    const wasm = await threeSteps('wasm');
    const native = await threeSteps('tensorflow');
    wasm.forEach((expected, i) => {
      const difference = maxAbsDifference(native[i], expected);
      assert.ok(difference < 1e-6, `variable ${i}: max abs difference ${difference}`);
    });
  });
});
