// The dashboard's pure parts: smoothing, axis ticks and scaling, the x axis choices and
// the "diff only" settings table and the saved controls (src/webviews). The page that draws them runs in test/e2e.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TRAIN_CONFIG } from '../../src/core/config';
import type { RunInfo } from '../../src/protocol/lsp';
import { DEFAULT_CONTROLS, parseControls } from '../../src/webviews/controls';
import { costLines } from '../../src/webviews/costSummary';
import { reproductionNote } from '../../src/webviews/reproduction';
import { niceRange, quantile, tickLabels, yRange } from '../../src/webviews/scaling';
import { settingsRows } from '../../src/webviews/settingsDiff';
import { smooth } from '../../src/webviews/smoothing';
import { Clock, nearestIndex, xOf } from '../../src/webviews/xAxis';

const near = (actual: number, expected: number, what = '') => assert.ok(Math.abs(actual - expected) < 1e-9, `${what} ${actual} ≈ ${expected}`);

describe('smoothing (debiased exponential moving average)', () => {
  it('starts at the first value instead of being dragged towards zero', () => {
    const smoothed = smooth([{ x: 1, y: 10 }, { x: 2, y: 10 }, { x: 3, y: 10 }], 0.9);
    for (const point of smoothed) near(point.y, 10, 'a constant stays constant');
  });

  it('matches TensorBoard: EMA_t / (1 - w^t)', () => {
    const w = 0.6;
    const ys = [4, 2, 6, 1];
    const smoothed = smooth(ys.map((y, x) => ({ x, y })), w);
    let ema = 0;
    ys.forEach((y, t) => {
      ema = w * ema + (1 - w) * y;
      near(smoothed[t].y, ema / (1 - w ** (t + 1)), `point ${t}`);
      assert.equal(smoothed[t].x, t);
    });
    assert.ok(smoothed[2].y < 6 && smoothed[2].y > 2, 'a spike is damped');
  });

  it('leaves the values alone at weight 0 and skips non-finite values', () => {
    assert.deepEqual(smooth([{ x: 0, y: 3 }, { x: 1, y: 5 }], 0), [{ x: 0, y: 3 }, { x: 1, y: 5 }]);
    const smoothed = smooth([{ x: 0, y: 2 }, { x: 1, y: NaN }, { x: 2, y: 2 }], 0.5);
    assert.ok(Number.isNaN(smoothed[1].y));
    near(smoothed[2].y, 2, 'NaN did not enter the average');
  });
});

describe('tick labels', () => {
  it('tells apart ticks a few thousandths apart (the early loss axis read "6.26" twelve times)', () => {
    const ticks = [6.255, 6.256, 6.257, 6.258, 6.259, 6.26, 6.261, 6.262];
    const labels = tickLabels(ticks);
    assert.equal(new Set(labels).size, ticks.length, labels.join(' '));
    assert.deepEqual(labels.slice(0, 2), ['6.255', '6.256']);
  });

  it('uses no more decimals than the step needs', () => {
    assert.deepEqual(tickLabels([4, 4.2, 4.4, 4.6]), ['4.0', '4.2', '4.4', '4.6']);
    assert.deepEqual(tickLabels([0, 20, 40]), ['0', '20', '40']);
    assert.deepEqual(tickLabels([0.1, 0.15000000000000002, 0.2]), ['0.10', '0.15', '0.20'], 'float noise adds no digits');
  });

  it('tells apart percent ticks (the accuracy axis read "3%, 3%, 2%, 2%")', () => {
    const percent = (v: number, d: number) => `${(v * 100).toFixed(d)}%`;
    const labels = tickLabels([0.0225, 0.025, 0.0275, 0.03].map((v) => v), (v, d) => percent(v, Math.max(0, d - 2)));
    assert.equal(new Set(labels).size, 4, labels.join(' '));
  });

  it('keeps uneven (log-scale) ticks distinct', () => {
    const labels = tickLabels([0.5, 0.6, 0.7, 0.8, 0.9, 1, 2, 3]);
    assert.equal(new Set(labels).size, 8, labels.join(' '));
  });
});

describe('y scaling', () => {
  it('computes quantiles between neighbours', () => {
    near(quantile([0, 10], 0.5), 5);
    near(quantile([1, 2, 3, 4, 5], 0.25), 2);
  });

  it('covers every value by default, on round numbers', () => {
    const range = yRange([4.31, 4.9, 9.7], { ignoreOutliers: false, log: false });
    assert.ok(range && range.min <= 4.31 && range.max >= 9.7, JSON.stringify(range));
    near(range.min * 10 - Math.round(range.min * 10), 0, 'min on a round step');
  });

  it('ignores outliers: the first batches at loss 9 no longer squash the curve', () => {
    const values = [9.2, 8.8, ...Array.from({ length: 98 }, (_, i) => 5 - i * 0.01)];
    const all = yRange(values, { ignoreOutliers: false, log: false });
    const bulk = yRange(values, { ignoreOutliers: true, log: false });
    assert.ok(all && bulk);
    assert.ok(all.max >= 9.2);
    assert.ok(bulk.max < 6 && bulk.min > 3.5, JSON.stringify(bulk));
  });

  it('on a log scale keeps positive values only and a positive minimum', () => {
    const range = yRange([0, 0.01, 0.1, 0.2], { ignoreOutliers: false, log: true });
    assert.ok(range && range.min > 0 && range.min < 0.01 && range.max > 0.2, JSON.stringify(range));
    assert.deepEqual(yRange([4.4, 4.9], { ignoreOutliers: false, log: true }), { min: 4.3, max: 5 }, 'round ends, which chart.js labels');
    assert.equal(yRange([0, -1], { ignoreOutliers: false, log: true }), undefined, 'nothing to draw on a log scale');
  });

  it('widens a single value into a range', () => {
    const range = yRange([6.26], { ignoreOutliers: true, log: false });
    assert.ok(range && range.min < 6.26 && range.max > 6.26);
  });

  it('rounds a range out to 1-2-5 steps', () => {
    assert.deepEqual(niceRange(4.13, 4.87, 5), { min: 4, max: 5 });
    assert.deepEqual(niceRange(4.13, 4.87, 10), { min: 4.1, max: 4.9 }, 'without float noise');
  });
});

describe('x axis', () => {
  it('places a step by batches, by epochs or by seconds', () => {
    const clock = new Clock();
    clock.add(100, 20); // epoch 1 ended at 20 s
    clock.add(200, 30);
    assert.equal(xOf('step', 150, 100, clock), 150);
    assert.equal(xOf('epoch', 150, 100, clock), 1.5);
    near(xOf('time', 150, 100, clock), 25, 'between two known moments');
    near(xOf('time', 50, 100, clock), 10, 'from the start');
    near(xOf('time', 250, 100, clock), 35, 'the last pace continued');
  });

  it('takes moments in any order and lets a later report win', () => {
    const clock = new Clock();
    clock.add(200, 40);
    clock.add(100, 10);
    clock.add(200, 30);
    near(clock.secondsAt(150), 20);
    assert.equal(new Clock().secondsAt(7), 0, 'no moment known: time 0');
  });

  it('finds the point nearest to the pointer', () => {
    const xs = [0, 10, 20, 30];
    assert.equal(nearestIndex(xs, 14, (x) => x), 1);
    assert.equal(nearestIndex(xs, 16, (x) => x), 2);
    assert.equal(nearestIndex(xs, -5, (x) => x), 0);
    assert.equal(nearestIndex(xs, 99, (x) => x), 3);
    assert.equal(nearestIndex([], 1, (x: number) => x), -1);
  });
});

describe('settings of the shown runs', () => {
  const base = { corpusName: 'notes.md', config: { ...DEFAULT_TRAIN_CONFIG }, backend: 'wasm' };
  const runs = [
    { ...base, config: { ...base.config, cell: 'rnn' as const } },
    { ...base, config: { ...base.config, cell: 'gru' as const, units: 64 } },
  ];

  it('with "diff only", shows just what differs', () => {
    const rows = settingsRows(runs, true);
    assert.deepEqual(rows.map((r) => r.name), ['cell', 'units']);
    assert.deepEqual(rows[1].values, [String(DEFAULT_TRAIN_CONFIG.units), '64']);
  });

  it('without it, shows every setting, the text and the backend, marking the differences', () => {
    const rows = settingsRows(runs, false);
    assert.ok(rows.length > 15);
    assert.equal(rows[0].name, 'text');
    assert.equal(rows.find((r) => r.name === 'tied weights')?.values[0], DEFAULT_TRAIN_CONFIG.tieWeights ? 'yes' : 'no');
    assert.deepEqual(rows.filter((r) => r.differs).map((r) => r.name), ['cell', 'units']);
    assert.ok(rows.every((r) => r.values.length === 2));
  });

  it('shows nothing to compare for one run with "diff only"', () => {
    assert.deepEqual(settingsRows([runs[0]], true), []);
  });
});

describe('chart controls kept in the webview state', () => {
  it('comes back as saved', () => {
    const saved = { smoothing: 0.9, xMode: 'time', logY: true, ignoreOutliers: true, zoom: { min: 10, max: 50 }, diffOnly: false };
    assert.deepEqual(parseControls(JSON.parse(JSON.stringify(saved))), saved);
  });

  it('falls back to the defaults for missing or invalid values', () => {
    assert.deepEqual(parseControls(undefined), DEFAULT_CONTROLS);
    const parsed = parseControls({ smoothing: 5, xMode: 'minutes', logY: 'yes', zoom: { min: 9, max: 3 } });
    assert.equal(parsed.smoothing, 0.99, 'clamped');
    assert.equal(parsed.xMode, 'step');
    assert.equal(parsed.logY, false);
    assert.equal(parsed.zoom, null, 'an empty range is no zoom');
  });
});

describe('reproductionNote', () => {
  it('names the run a Keras experiment repeated and how far its validation loss is from it', () => {
    assert.equal(reproductionNote({ bestValLoss: 4.5 }, undefined, ''), null, 'not a repeat');
    assert.equal(
      reproductionNote({ reproduces: 'a', bestValLoss: 4.376 }, { bestValLoss: 4.367 }, 'LSTM 19:41'),
      'Trained in Keras from LSTM 19:41: validation loss 4.38 against 4.37 there (+0.2%).',
    );
    assert.match(reproductionNote({ reproduces: 'a', bestValLoss: 4.0 }, { bestValLoss: 5.0 }, 'GRU 9:00')!, /\(−20\.0%\)\.$/);
    assert.equal(reproductionNote({ reproduces: 'gone', bestValLoss: 4 }, undefined, ''), 'Trained in Keras from the run gone, which is no longer listed.');
  });
});

describe('costLines', () => {
  const run = (id: string, cell: 'rnn' | 'gru' | 'lstm', tokensPerSecond: number | undefined, group?: string) =>
    ({ id, cell, group, vocabSize: 1000, tokensPerSecond, config: { ...DEFAULT_TRAIN_CONFIG, cell, embedding: 64, units: 64, layers: 1 } }) as unknown as RunInfo;

  it('sets the 1 : 3 : 4 of the recurrent weights beside the time per token of each compared cell', () => {
    const runs = [run('a', 'rnn', 20000, 'g'), run('b', 'gru', 10000, 'g'), run('c', 'lstm', 8000, 'g'), run('d', 'lstm', 9000)];
    const [line, ...more] = costLines(runs, { a: 'RNN 9:00', b: 'GRU 9:00', c: 'LSTM 9:00' });
    assert.equal(more.length, 0, 'a run trained alone is no comparison');
    // 64·64 + 64·64 + 64 = 8,256 weights per gate block.
    assert.equal(line, 'RNN 9:00, GRU 9:00, LSTM 9:00: recurrent weights 8.26k · 24.8k · 33.0k (1.0 : 3.0 : 4.0); time per token 1.0 : 2.0 : 2.5, RNN = 1.');
  });

  it('leaves the times out while a run has none yet', () => {
    const [line] = costLines([run('a', 'rnn', 20000, 'g'), run('b', 'gru', undefined, 'g')], {});
    assert.match(line, /\(1\.0 : 3\.0\), RNN = 1\.$/);
  });
});
