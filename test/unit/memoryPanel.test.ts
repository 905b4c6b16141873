import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHostToMemory, isMeasuredMemory, type MeasuredMemory } from '../../src/protocol/memory';
import { contextTickLabel, contextX, logTickLabels, powerOfTen } from '../../src/webviews/memoryAxes';

const measured: MeasuredMemory = {
  run: 'r1',
  cell: 'gru',
  units: 16,
  layers: 1,
  text: "the run's validation text",
  tokens: 900,
  gradient: { lags: [1, 2, 3], geometricMean: [0.5, 0.1, 0.02], p10: [0.3, 0.05, 0.01], p90: [0.7, 0.2, 0.04], windows: 64 },
  context: { contexts: [1, 2, 4], loss: [6.1, 5.8, 5.7], fullContextLoss: 5.6, gapStandardError: [0.05, 0.04, 0.03], positions: 512 },
};

describe('Memory Through Time panel', () => {
  it('labels a log axis spanning decades at its powers of ten only', () => {
    assert.deepEqual(logTickLabels([1e-6, 2e-6, 5e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10]), ['10⁻⁶', '', '', '10⁻⁵', '10⁻⁴', '10⁻³', '10⁻²', '10⁻¹', '1', '10']);
    assert.equal(powerOfTen(-12), '10⁻¹²');
  });

  it('labels every tick of a log axis narrower than two decades', () => {
    assert.deepEqual(logTickLabels([0.2, 0.3, 0.5, 1, 2]), ['0.2', '0.3', '0.5', '1', '2']);
    assert.deepEqual(logTickLabels([0.123456, 0.2]), ['0.12', '0.2']);
  });

  it('puts the doubling context lengths one tick apart, labelled with the tokens', () => {
    assert.deepEqual([1, 2, 4, 64].map(contextX), [0, 1, 2, 6]);
    assert.deepEqual([0, 0.5, 1, 6].map(contextTickLabel), ['1', '', '2', '64']);
  });

  it('lets a real measurement through to the page, and stops curves whose arrays do not line up', () => {
    const run = { runId: 'r1', label: 'GRU 19:41', colourIndex: 0, status: 'done', memory: measured };
    assert.ok(isHostToMemory({ type: 'show', runs: [run, { runId: 'r2', label: 'RNN 19:41', colourIndex: 1, status: 'measuring' }] }));
    const misfit = { ...measured, gradient: { ...measured.gradient, p90: [0.7, 0.2] } };
    assert.equal(isMeasuredMemory(misfit), false);
    assert.equal(isHostToMemory({ type: 'show', runs: [{ ...run, memory: misfit }] }), false);
    assert.equal(isHostToMemory({ type: 'show', runs: [{ ...run, memory: undefined }] }), false, 'a run said to be done brings its curves');
    assert.equal(isHostToMemory({ type: 'show', runs: [{ ...run, status: 'finished' }] }), false);
  });
});
