/**
 * The graphs the native backend runs (src/core/native/graph.ts, savedModel.ts, session.ts):
 * written as a SavedModel by hand, loaded by TensorFlow's C API through tfjs-node, and run
 * against the same ops run eagerly. The network's own graphs are checked against the stock
 * layers in fast.test.ts.
 */
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import { chooseTrainingBackend } from '../../src/core/backendChoice';
import { Graph } from '../../src/core/native/graph';
import { cachedGraph, CompiledGraph, compileGraph } from '../../src/core/native/session';
import { maxAbsDifference, NATIVE_SKIP, useWasm } from './helpers';

describe('TensorFlow graphs on the native backend', { skip: NATIVE_SKIP }, () => {
  before(() => initBackend('tensorflow'));
  after(useWasm);

  it('computes what the same ops compute eagerly, with an axis whose size comes at run time', () => {
    const g = new Graph();
    const a = g.input('a', [-1, 3]);
    const b = g.input('b', [3, 4]);
    const ids = g.input('ids', [2], 'int32');
    // tanh(a·b + 0.5), its rows at `ids`, and the sum of each column.
    const product = g.tanh(g.add(g.matMul(a, b), g.scalar(0.5)));
    const picked = g.gather(product, ids, 0);
    const columns = g.sum(product, [0]);
    const graph = compileGraph(g, [picked, columns]);
    for (const rows of [5, 2]) {
      const [aValue, bValue] = [tf.randomNormal([rows, 3]), tf.randomNormal([3, 4])];
      const idsValue = tf.tensor1d([rows - 1, 0], 'int32');
      const [gotPicked, gotColumns] = graph.run([aValue, bValue, idsValue]);
      const expected = tf.tanh(tf.add(tf.matMul(aValue, bValue), 0.5));
      assert.deepEqual(gotPicked.shape, [2, 4]);
      assert.ok(maxAbsDifference(gotPicked.dataSync(), tf.gather(expected, idsValue).dataSync()) < 1e-6);
      assert.ok(maxAbsDifference(gotColumns.dataSync(), tf.sum(expected, 0).dataSync()) < 1e-5);
      tf.dispose([aValue, bValue, idsValue, gotPicked, gotColumns, expected]);
    }
    graph.close();
  });

  it('gives cross-entropy and its gradient from one softmax, finite where the label underflows', () => {
    const g = new Graph();
    const logits = g.input('logits', [2, 3]);
    const labels = g.constant([1, 2], [2], 'int32');
    const [losses, gradient] = g.crossEntropyWithGradient(logits, labels);
    const graph = compileGraph(g, [losses, gradient, g.crossEntropy(logits, labels)]);
    // Row 2's label is 200 nats below the rest: its probability underflows float32.
    const fed = tf.tensor2d([[0.5, -1, 2], [0, 0, -200]]);
    const [gotLosses, gotGradient, exact] = graph.run([fed]);
    const expectedExact = tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.logSoftmax(fed), tf.oneHot([1, 2], 3)), 1)));
    assert.ok(maxAbsDifference(exact.dataSync(), expectedExact.dataSync()) < 1e-4);
    const [first, second] = gotLosses.dataSync();
    assert.ok(Math.abs(first - expectedExact.dataSync()[0]) < 1e-5);
    // Counted as the smallest float32's log, 87.3 nats, where scoring says 200.
    assert.ok(Math.abs(second - 87.34) < 0.01, String(second));
    const expectedGradient = tf.tidy(() => tf.sub(tf.softmax(fed), tf.oneHot([1, 2], 3)));
    assert.ok(maxAbsDifference(gotGradient.dataSync(), expectedGradient.dataSync()) < 1e-6);
    tf.dispose([fed, gotLosses, gotGradient, exact, expectedExact, expectedGradient]);
    graph.close();
  });

  it('says which input was fed the wrong shape', () => {
    const g = new Graph();
    const x = g.input('x', [2, 3]);
    const graph = compileGraph(g, [g.neg(x)]);
    const wrong = tf.zeros([3, 2]);
    assert.throws(() => graph.run([wrong]), /Graph input x is \[2,3\], fed \[3,2\]/);
    assert.throws(() => graph.run([]), /takes 1 inputs, not 0/);
    wrong.dispose();
    graph.close();
  });

  it('builds a cached graph once per key', () => {
    let builds = 0;
    const build = () => {
      builds++;
      const g = new Graph();
      const x = g.input('x', [1]);
      return { graph: g, outputs: [g.square(x)] };
    };
    const key = `test ${Date.now()}`;
    const first = cachedGraph(key, build);
    assert.equal(cachedGraph(key, build), first);
    assert.equal(builds, 1);
    const x = tf.tensor1d([3]);
    const [y] = first.run([x]);
    assert.deepEqual(Array.from(y.dataSync()), [9]);
    tf.dispose([x, y]);
  });

  it('leaves native TensorFlow out of an auto choice when its graphs fail, and says why', async () => {
    // As a TensorFlow without one of the graph's ops fails: when the session runs.
    const failing = mock.method(CompiledGraph.prototype, 'run', () => {
      throw new Error('Session fail to run with error: Op type not registered');
    });
    try {
      const shape = { cell: 'gru' as const, vocabSize: 30, embedding: 8, units: 8, layers: 1, dropout: 0, batch: 2, seqLen: 5 };
      const choice = await chooseTrainingBackend('auto', shape);
      assert.equal(choice.backend, 'wasm');
      assert.match(choice.reason, /^the only fast backend that could train this model here \(the tensorflow backend failed on it: Session fail to run with error: Op type not registered\)/);
    } finally {
      failing.mock.restore();
      await initBackend('tensorflow');
    }
  });
});
