/**
 * Memory through time (core/inspect/memory.ts) against independent computations: the
 * gradient norms against central finite differences through the fast path (perturb h at
 * t − k, read on to t, score; with two layers, perturbing a lower layer's h also moves the
 * layer above at that step, which the fast path cannot do, so there the differences go
 * through the reference forward pass, itself checked against the stock layers), the
 * loss-by-context curve against the stock model's
 * prediction on a window of exactly n tokens, and its full-context figure against the
 * stock model reading the whole text before each target.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { evenPositions, gradientNorms, gradientThroughTime, lossByContext, measureMemory } from '../../src/core/inspect/memory';
import { unroll } from '../../src/core/inspect/unroll';
import { modelParts } from '../../src/core/model';
import { makeNetwork, type LayerState } from '../../src/core/network';
import { CELL_TYPES } from '../../src/protocol/types';
import { useWasm } from './helpers';
import { assertClose, livelyModel, randomIds } from './inspectModels';

const VOCAB = 23;
const MAX_LAG = 6;
const WARM_UP = 3;
const EPSILON = 3e-3;

/** Runs `tokens` from `initial` on the fast path: the state after them and the log-probability of `target` after the last. */
function readOn(model: tf.LayersModel, tokens: Int32Array, target: number, initial?: LayerState[]): { state: LayerState[]; logProbability: number } {
  const targets = new Int32Array(tokens.length);
  targets[tokens.length - 1] = target;
  const result = makeNetwork(modelParts(model)).targetLogProbabilities({ inputs: tokens, targets, rows: 1, seqLen: tokens.length }, initial);
  return { state: result.state, logProbability: result.logProbabilities[tokens.length - 1] };
}

/** ‖dL/dh_s‖ over all layers by central differences: perturb one unit of one layer's h after step s, read the rest of the window. */
function finiteDifferenceNorm(model: tf.LayersModel, window: Int32Array, target: number, s: number): number {
  const before = readOn(model, window.subarray(0, s + 1), target).state;
  const rest = window.subarray(s + 1);
  let sumOfSquares = 0;
  before.forEach((layerState, l) => {
    const h = layerState[0].dataSync();
    for (let j = 0; j < h.length; j++) {
      const lossWith = (shift: number) => {
        const moved = Float32Array.from(h);
        moved[j] += shift;
        const hMoved = tf.tensor2d(moved, layerState[0].shape);
        const initial = before.map((state, m) => (m === l ? [hMoved, ...state.slice(1)] : state));
        const result = readOn(model, rest, target, initial);
        tf.dispose([hMoved, ...result.state.flat()]);
        return -result.logProbability;
      };
      const derivative = (lossWith(EPSILON) - lossWith(-EPSILON)) / (2 * EPSILON);
      sumOfSquares += derivative * derivative;
    }
  });
  tf.dispose(before.flat());
  return Math.sqrt(sumOfSquares);
}

/** The same norm by central differences through unroll's forward pass with a perturbation of h_s in each layer and unit. */
function finiteDifferenceNormUnrolled(model: tf.LayersModel, window: Int32Array, target: number, s: number): number {
  const parts = modelParts(model);
  let sumOfSquares = 0;
  for (let l = 0; l < parts.recurrent.length; l++) {
    for (let j = 0; j < parts.units; j++) {
      const lossWith = (shift: number) => {
        const loss = tf.tidy(() => {
          const delta = tf.tensor2d(Float32Array.from({ length: parts.units }, (_, u) => (u === j ? shift : 0)), [1, parts.units]);
          const perturbations = parts.recurrent.map((_, m) => (m === l ? [...new Array<undefined>(s), delta] : []));
          const unrolled = unroll(parts, { ids: window, batch: 1, steps: window.length }, { perturbations });
          return tf.neg(tf.logSoftmax(unrolled.logitsAt(window.length - 1)));
        });
        const value = loss.dataSync()[target];
        loss.dispose();
        return value;
      };
      const derivative = (lossWith(EPSILON) - lossWith(-EPSILON)) / (2 * EPSILON);
      sumOfSquares += derivative * derivative;
    }
  }
  return Math.sqrt(sumOfSquares);
}

/** The loss of stream[p] as the stock model predicts it after reading `context` (from the zero state). */
function stockLoss(model: tf.LayersModel, context: Int32Array, target: number): number {
  const probabilities = tf.tidy(() => model.predict(tf.tensor2d(context, [1, context.length], 'int32')) as tf.Tensor3D);
  const values = probabilities.dataSync();
  probabilities.dispose();
  return -Math.log(values[(context.length - 1) * VOCAB + target]);
}

describe('memory through time', () => {
  before(useWasm);

  const cases = [...CELL_TYPES.map((cell) => ({ cell, layers: 1 })), { cell: 'lstm' as const, layers: 2 }];
  for (const { cell, layers } of cases) {
    it(`${cell}, ${layers} layer(s): gradient norms at every lag match finite differences`, async () => {
      const model = livelyModel(cell, { layers, scale: 0.8 });
      const stream = randomIds(VOCAB, 40, 21);
      const steps = WARM_UP + MAX_LAG + 1;
      const ends = [steps - 1, steps + 12];
      const norms = await gradientNorms(modelParts(model), stream, ends, MAX_LAG, WARM_UP);
      assert.equal(norms.length, ends.length);
      ends.forEach((end, w) => {
        const window = stream.subarray(end - steps + 1, end + 1);
        const differences = layers === 1 ? finiteDifferenceNorm : finiteDifferenceNormUnrolled;
        const expected = Array.from({ length: MAX_LAG }, (_, i) => differences(model, window, stream[end + 1], steps - 1 - (i + 1)));
        // Central differences in float32 are good to ~1e-4 here; the norms themselves are 1e-3 … 1.
        const tolerance = Math.max(...expected) * 0.01 + 2e-4;
        assertClose(norms[w], expected, tolerance, `window ${w} norms by lag`);
      });
      model.dispose();
    });
  }

  it('the curve averages the windows geometrically, lag by lag', async () => {
    const model = livelyModel('gru');
    const stream = randomIds(VOCAB, 60, 22);
    const curve = await gradientThroughTime(model, stream, { maxLag: MAX_LAG, warmUp: WARM_UP, windows: 5 });
    const ends = evenPositions(WARM_UP + MAX_LAG, stream.length - 2, 5);
    const norms = await gradientNorms(modelParts(model), stream, ends, MAX_LAG, WARM_UP);
    const expected = curve.lags.map((k) => Math.exp(norms.reduce((sum, row) => sum + Math.log(row[k - 1]), 0) / norms.length));
    assert.deepEqual(curve.lags, [1, 2, 3, 4, 5, 6]);
    assert.equal(curve.windows, 5);
    assertClose(curve.geometricMean, expected, 1e-9, 'geometric means');
    curve.lags.forEach((_, i) => assert.ok(curve.p10[i] <= curve.geometricMean[i] && curve.geometricMean[i] <= curve.p90[i]));
    model.dispose();
  });

  for (const cell of CELL_TYPES) {
    it(`${cell}: loss by context equals the stock model scoring a window of exactly n tokens`, async () => {
      const model = livelyModel(cell);
      const stream = randomIds(VOCAB, 50, 23);
      const contexts = [1, 2, 4, 8];
      const curve = await lossByContext(model, stream, { contexts, positions: 12 });
      const positions = evenPositions(8, stream.length - 1, 12);
      assert.equal(curve.positions, positions.length);
      const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
      const full = positions.map((p) => stockLoss(model, stream.subarray(0, p), stream[p]));
      const byContext = contexts.map((n) => positions.map((p) => stockLoss(model, stream.subarray(p - n, p), stream[p])));
      assertClose(curve.loss, byContext.map(mean), 1e-4, 'loss by context');
      assertClose([curve.fullContextLoss], [mean(full)], 1e-4, 'full-context loss');
      const gapErrors = byContext.map((losses) => {
        const gaps = losses.map((loss, i) => loss - full[i]);
        const centre = mean(gaps);
        return Math.sqrt(gaps.reduce((sum, g) => sum + (g - centre) ** 2, 0) / (gaps.length - 1) / gaps.length);
      });
      assertClose(curve.gapStandardError, gapErrors, 1e-4, 'standard errors of the gaps');
      model.dispose();
    });
  }

  it('says how many tokens it needs when the held-out text is too short', async () => {
    const model = livelyModel('rnn');
    await assert.rejects(() => gradientThroughTime(model, randomIds(VOCAB, 20, 24)), /has 20 tokens; memory through time needs at least 98/);
    model.dispose();
  });
});

describe('memory through time in an engine', () => {
  before(useWasm);

  it('gives the event loop a turn after every batch, so other requests are answered meanwhile', async () => {
    const model = livelyModel('lstm');
    const stream = randomIds(VOCAB, 160, 25);
    let pauses = 0;
    let timersRun = 0;
    // A timer set before the measurement can only fire if the measurement lets the event loop turn.
    const ticking = setInterval(() => timersRun++, 0);
    const between = async () => {
      pauses++;
      await new Promise((resolve) => setImmediate(resolve));
    };
    try {
      const plain = await measureMemory(model, stream, { maxLag: MAX_LAG, warmUp: WARM_UP, windows: 40, positions: 20, contexts: [1, 2, 4] });
      const paused = await measureMemory(model, stream, { maxLag: MAX_LAG, warmUp: WARM_UP, windows: 40, positions: 20, contexts: [1, 2, 4], between });
      // 40 windows in batches of 8 are 5 gradient batches; each of 3 contexts is one batch of
      // 20 targets; reading the 160 tokens with full context is one window of the lane.
      assert.equal(pauses, 5 + 3 + 1);
      assert.ok(timersRun > 0, 'a timer ran while the curves were measured');
      assert.deepEqual(paused, plain, 'pausing changes no figure');
    } finally {
      clearInterval(ticking);
      model.dispose();
    }
  });
});
