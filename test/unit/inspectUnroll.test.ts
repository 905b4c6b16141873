/**
 * The step-by-step reference forward pass (core/inspect/unroll.ts) computes the model the
 * stock layers compute: its logits give the log-probabilities of `model.predict` and of
 * the fast path, for every cell, one and two layers; its gates and perturbations mean what
 * its doc comment says.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { GATE_NAMES, unroll } from '../../src/core/inspect/unroll';
import { modelParts } from '../../src/core/model';
import { makeNetwork } from '../../src/core/network';
import { CELL_TYPES } from '../../src/protocol/types';
import { useWasm } from './helpers';
import { assertClose, livelyModel, randomIds } from './inspectModels';

const BATCH = 3;
const STEPS = 9;

/** log softmax of the unrolled logits, [batch, steps, vocab] flattened row-major. */
function unrolledLogProbabilities(model: tf.LayersModel, ids: Int32Array): Float32Array {
  const result = tf.tidy(() => tf.logSoftmax(unroll(modelParts(model), { ids, batch: BATCH, steps: STEPS }).logits()));
  const values = result.dataSync() as Float32Array;
  result.dispose();
  return values;
}

describe('unroll: the reference forward pass', () => {
  before(useWasm);

  for (const cell of CELL_TYPES) {
    for (const layers of [1, 2]) {
      it(`${cell}, ${layers} layer(s): log-probabilities equal model.predict's`, () => {
        const model = livelyModel(cell, { layers, dropout: layers === 2 ? 0.3 : 0 });
        const ids = randomIds(23, BATCH * STEPS, 11);
        const stock = tf.tidy(() => tf.log(model.predict(tf.tensor2d(ids, [BATCH, STEPS], 'int32')) as tf.Tensor));
        const expected = stock.dataSync();
        stock.dispose();
        assertClose(unrolledLogProbabilities(model, ids), expected, 1e-5, 'log-probabilities');
        model.dispose();
      });
    }

    it(`${cell}: target log-probabilities equal the fast path's`, () => {
      const model = livelyModel(cell);
      const ids = randomIds(23, BATCH * STEPS, 12);
      const targets = randomIds(23, BATCH * STEPS, 13);
      const fast = makeNetwork(modelParts(model)).targetLogProbabilities({ inputs: ids, targets, rows: BATCH, seqLen: STEPS });
      tf.dispose(fast.state.flat());
      const unrolled = unrolledLogProbabilities(model, ids);
      const vocab = 23;
      // The fast path is time-major: row t·batch + r.
      const picked = Float32Array.from(fast.logProbabilities, (_, i) => {
        const t = Math.floor(i / BATCH);
        const r = i % BATCH;
        return unrolled[(r * STEPS + t) * vocab + targets[r * STEPS + t]];
      });
      assertClose(picked, fast.logProbabilities, 1e-5, 'target log-probabilities');
      model.dispose();
    });
  }

  it('exposes each gate by name, one [batch, units] tensor per step, and they make up h', () => {
    for (const cell of CELL_TYPES) {
      const model = livelyModel(cell);
      tf.tidy(() => {
        const [layer] = unroll(modelParts(model), { ids: randomIds(23, BATCH * STEPS, 14), batch: BATCH, steps: STEPS }).layers;
        assert.deepEqual(Object.keys(layer.gates), [...GATE_NAMES[cell]]);
        for (const values of Object.values(layer.gates)) {
          assert.equal(values.length, STEPS);
          assert.deepEqual(values[0].shape, [BATCH, 8]);
        }
        assert.equal(layer.c !== undefined, cell === 'lstm');
        const t = 5;
        const { gates } = layer;
        // h from the exposed gates, by the formulas of the module comment.
        const rebuilt =
          cell === 'lstm'
            ? tf.mul(gates.output![t], tf.tanh(layer.c![t]))
            : cell === 'gru'
              ? tf.add(tf.mul(gates.update![t], layer.h[t - 1]), tf.mul(tf.sub(1, gates.update![t]), gates.candidate![t]))
              : layer.h[t];
        assertClose(rebuilt.dataSync(), layer.h[t].dataSync(), 1e-6, `${cell} h from its gates`);
      });
      model.dispose();
    }
  });

  it('a perturbation of h at step s moves h from s on and nothing before it', () => {
    const model = livelyModel('lstm');
    const ids = randomIds(23, BATCH * STEPS, 15);
    tf.tidy(() => {
      const parts = modelParts(model);
      const plain = unroll(parts, { ids, batch: BATCH, steps: STEPS }).layers[0].h;
      const delta = tf.fill([BATCH, 8], 0.25) as tf.Tensor2D;
      const moved = unroll(parts, { ids, batch: BATCH, steps: STEPS }, { perturbations: [[undefined, undefined, undefined, delta]] }).layers[0].h;
      assertClose(moved[2].dataSync(), plain[2].dataSync(), 0, 'h before the perturbation');
      assertClose(tf.sub(moved[3], plain[3]).dataSync(), delta.dataSync(), 1e-6, 'h at the perturbed step');
      assert.throws(() => assertClose(moved[6].dataSync(), plain[6].dataSync(), 1e-4), 'the perturbation carries forward');
    });
    model.dispose();
  });
});
