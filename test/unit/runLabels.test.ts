// Run names (src/client/runLabels.ts) and the metrics export (src/client/metricsExport.ts):
// the pure parts behind the Models view, the dashboard and its Export buttons.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TRAIN_CONFIG } from '../../src/core/config';
import { CSV_COLUMNS, metricsCsv, metricsJson } from '../../src/client/metricsExport';
import { runLabels } from '../../src/client/runLabels';
import type { RunInfo } from '../../src/protocol/lsp';

const at = (h: number, m: number, s = 0) => new Date(2025, 0, 2, h, m, s).toISOString();
const run = (id: string, cell: RunInfo['cell'], createdAt: string) => ({ id, cell, createdAt });

describe('run labels', () => {
  it('names a run by cell and minute when that is unique', () => {
    const labels = runLabels([run('a', 'gru', at(19, 41, 7)), run('b', 'lstm', at(19, 41, 9)), run('c', 'gru', at(19, 42))]);
    assert.deepEqual(labels, { a: 'GRU 19:41', b: 'LSTM 19:41', c: 'GRU 19:42' });
  });

  it('adds seconds only to runs that would read alike', () => {
    const labels = runLabels([run('a', 'gru', at(19, 41, 7)), run('b', 'gru', at(19, 41, 30)), run('c', 'rnn', at(19, 41, 7))]);
    assert.deepEqual(labels, { a: 'GRU 19:41:07', b: 'GRU 19:41:30', c: 'RNN 19:41' });
  });

  it('numbers runs started in the same second, in a stable order', () => {
    const runs = [run('z', 'gru', at(19, 41, 7)), run('y', 'gru', at(19, 41, 7)), run('x', 'gru', at(19, 41, 50))];
    const labels = runLabels(runs);
    assert.deepEqual(labels, { y: 'GRU 19:41:07', z: 'GRU 19:41:07 #2', x: 'GRU 19:41:50' });
    assert.deepEqual(runLabels([...runs].reverse()), labels, 'the order of the registry does not matter');
    assert.equal(new Set(Object.values(labels)).size, 3);
  });

  it('keeps every label unique even without a readable time', () => {
    const labels = runLabels([run('a', 'lstm', 'garbage'), run('b', 'lstm', 'garbage')]);
    assert.deepEqual(labels, { a: 'LSTM', b: 'LSTM #2' });
  });
});

describe('metrics export', () => {
  const info: RunInfo = {
    id: 'r1',
    dir: '/runs/r1',
    corpusName: 'notes, "draft".md',
    cell: 'gru',
    config: { ...DEFAULT_TRAIN_CONFIG },
    state: 'done',
    createdAt: at(9, 5),
    epochsDone: 1,
  };
  const history = {
    runId: 'r1',
    batches: [{ step: 1, epoch: 1, loss: 6.5, accuracy: 0.02 }],
    epochs: [
      { epoch: 1, epochs: 2, loss: 6.1, accuracy: 0.03, valLoss: 5.9, valAccuracy: 0.04, valPerplexity: 365, tokensPerSecond: 900, elapsedSeconds: 3.5, etaSeconds: 3.5, best: true, partial: false },
    ],
    samples: [],
  };
  const exported = [
    { info, label: 'GRU 09:05', history },
    { info: { ...info, id: 'r2', cell: 'rnn' as const }, label: 'RNN 09:05', history: undefined },
  ];

  it('writes one CSV row per point of every run, quoting what needs it', () => {
    const lines = metricsCsv(exported).trimEnd().split('\r\n');
    assert.equal(lines[0], CSV_COLUMNS.join(','));
    assert.equal(lines.length, 3, 'header, one batch, one epoch; a run without curves adds nothing');
    assert.equal(lines[1], 'r1,GRU 09:05,gru,"notes, ""draft"".md",batch,1,1,,6.5,0.02,,,');
    assert.equal(lines[2], 'r1,GRU 09:05,gru,"notes, ""draft"".md",epoch,,1,3.5,6.1,0.03,5.9,0.04,365');
    for (const line of lines.slice(1)) {
      // Naive split works once the quoted text field is taken out.
      assert.equal(line.replace(/"(?:[^"]|"")*"/g, 'T').split(',').length, CSV_COLUMNS.length);
    }
  });

  it('writes JSON with the settings, results and curves of every run', () => {
    const document = JSON.parse(metricsJson(exported, new Date(0)));
    assert.equal(document.exportedAt, '1970-01-01T00:00:00.000Z');
    assert.equal(document.runs.length, 2);
    assert.equal(document.runs[0].label, 'GRU 09:05');
    assert.equal(document.runs[0].config.units, DEFAULT_TRAIN_CONFIG.units);
    assert.equal(document.runs[0].epochs[0].valLoss, 5.9);
    assert.deepEqual(document.runs[1].batches, []);
  });
});
