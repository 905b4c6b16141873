// Checks on the VS Code extension that need no VS Code: the manifest follows DESIGN.md §6
// and agrees with the code, and the webview message guards accept what the extension
// sends and refuse anything else. The real flow runs in test/e2e.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_TRAIN_CONFIG } from '../../src/core/config';
import { DEFAULT_SUGGEST_OPTIONS } from '../../src/core/predictor';
import { formatDuration, hasModel, mixtureShares } from '../../src/protocol/format';
import type { RunInfo } from '../../src/protocol/lsp';
import { isDashboardState, isDashboardToHost, isHostToDashboard, isHostToModels, isModelsToHost } from '../../src/protocol/webview';

const root = path.join(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributes = manifest.contributes;

describe('extension manifest', () => {
  it('names every command seqlab.verbNoun in the SeqLab category', () => {
    for (const command of contributes.commands) {
      assert.match(command.command, /^seqlab\.[a-z]+[A-Z][A-Za-z]*$/, command.command);
      assert.equal(command.category, 'SeqLab', command.command);
    }
  });

  it('contributes exactly the commands of the commands table', () => {
    const table = fs.readFileSync(path.join(root, 'src', 'client', 'commands.ts'), 'utf8');
    const inTable = [...table.matchAll(/^\s+'(seqlab\.\w+)':/gm)].map((m) => m[1]).sort();
    const contributed = contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(contributed, inTable);
    for (const entries of Object.values(contributes.menus) as { command: string }[][]) {
      for (const entry of entries) assert.ok(contributed.includes(entry.command), `menu names ${entry.command}`);
    }
  });

  it('documents every setting with a type, a default, a markdownDescription and a scope', () => {
    for (const [key, setting] of Object.entries(contributes.configuration.properties) as [string, Record<string, unknown>][]) {
      assert.match(key, /^seqlab\./);
      for (const field of ['type', 'default', 'markdownDescription', 'scope']) assert.ok(field in setting, `${key} has ${field}`);
    }
  });

  it('has the same training defaults as src/core/config.ts', () => {
    const properties = contributes.configuration.properties;
    for (const key of ['cell', 'units', 'layers', 'embedding', 'seqLen', 'epochs', 'batch', 'learningRate'] as const) {
      assert.equal(properties[`seqlab.model.${key}`].default, DEFAULT_TRAIN_CONFIG[key], `seqlab.model.${key}`);
    }
    assert.equal(properties['seqlab.backend'].default, DEFAULT_TRAIN_CONFIG.backend);
  });

  it("leaves the suggestion threshold to each model and keeps the engine's number of words", () => {
    const properties = contributes.configuration.properties;
    const threshold = properties['seqlab.suggestions.minConfidence'];
    assert.equal(threshold.default, null);
    assert.deepEqual(threshold.type, ['number', 'null']);
    assert.match(threshold.markdownDescription, /`null`/);
    assert.equal(properties['seqlab.suggestions.maxWords'].default, DEFAULT_SUGGEST_OPTIONS.maxWords);
  });

  it('lets Tab take the ghost text in every language it suggests in by default: no word list opens while typing', () => {
    const languages: string[] = contributes.configuration.properties['seqlab.suggestions.languages'].default;
    assert.ok(languages.length > 0);
    for (const language of languages) {
      // One block per language: a person's single-language block overrides it, a multi-language one would not.
      const defaults = contributes.configurationDefaults[`[${language}]`];
      assert.ok(defaults, `configurationDefaults has a [${language}] block`);
      assert.deepEqual(defaults['editor.quickSuggestions'], { other: 'off', comments: 'off', strings: 'off' }, language);
      assert.equal(defaults['editor.inlineSuggest.suppressSuggestions'], true, language);
    }
  });

  it('activates on specific events only, never "*"', () => {
    assert.ok(manifest.activationEvents.length > 0);
    assert.ok(!manifest.activationEvents.includes('*'));
    assert.ok(manifest.activationEvents.includes('onWebviewPanel:seqlab.dashboard'), 'the dashboard is restored after a reload');
  });

  it('ships an allow-list: .vscodeignore ignores everything first', () => {
    const lines = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    assert.equal(lines[0], '**');
    assert.ok(lines.slice(1).every((l) => l.startsWith('!')));
    assert.ok(!lines.some((l) => /cli|\.map/.test(l)), 'no CLI bundle, no source maps');
  });
});

const run: RunInfo = {
  id: 'r1',
  dir: '/runs/r1',
  corpusName: 'notes.md',
  cell: 'lstm',
  config: { ...DEFAULT_TRAIN_CONFIG },
  state: 'done',
  createdAt: new Date(2025, 0, 2, 9, 5).toISOString(),
  epochsDone: 3,
};

describe('webview messages', () => {
  it('accepts what the dashboard and the Models view send', () => {
    assert.ok(isDashboardToHost({ type: 'ready' }));
    assert.ok(isDashboardToHost({ type: 'stop', runId: 'r1' }));
    assert.ok(isDashboardToHost({ type: 'export', format: 'csv' }));
    assert.ok(isDashboardToHost({ type: 'export', format: 'json' }));
    assert.ok(isModelsToHost({ type: 'select', runIds: ['r1', 'r2'] }));
    assert.ok(isModelsToHost({ type: 'deleteRun', runId: 'r1' }));
    assert.ok(isDashboardState({ runIds: [] }));
  });

  it('refuses malformed messages', () => {
    for (const message of [null, 'ready', [], { type: 'stop' }, { type: 'stop', runId: 7 }, { type: 'eval', code: '1' }, { type: 'export', format: 'html' }]) {
      assert.ok(!isDashboardToHost(message), JSON.stringify(message));
    }
    for (const message of [{ type: 'select', runIds: 'r1' }, { type: 'select', runIds: [1] }, { type: 'useModel', runId: '' }, { type: 'nope' }]) {
      assert.ok(!isModelsToHost(message), JSON.stringify(message));
    }
    assert.ok(!isDashboardState({ runIds: [null] }));
  });

  it('accepts what the extension sends to the webviews', () => {
    const labels = { r1: 'LSTM 09:05' };
    assert.ok(isHostToDashboard({ type: 'show', runs: [run], histories: [{ runId: 'r1', batches: [], epochs: [], samples: [] }], labels }));
    assert.ok(!isHostToDashboard({ type: 'runs', runs: [run] }), 'runs come with their names');
    assert.ok(!isHostToDashboard({ type: 'runs', runs: [run], labels: { r1: 7 } }));
    assert.ok(isHostToDashboard({ type: 'progress', progress: { runId: 'r1', state: 'done' } }));
    assert.ok(isHostToModels({ type: 'update', runs: [run], labels, activeRunId: null, selected: ['r1'], suggestionsEnabled: true }));
    assert.ok(!isHostToModels({ type: 'update', runs: [{ id: 'r1' }], labels, activeRunId: null, selected: [], suggestionsEnabled: true }));
    assert.ok(isHostToModels({ type: 'progress', progress: { runId: 'r1', epoch: 2 } }));
    assert.ok(!isHostToModels({ type: 'progress', progress: {} }));
    const suggestion = { weights: { network: 0.62, kn3: 0.25, cache: 0.13 }, minConfidence: 0.2, natsPerChar: null, keystrokeSavings: 0.3, wordStartOffered: 0.4, wordStartFirstWordRight: 0.5 };
    const update = (runs: unknown[]) => ({ type: 'update', runs, labels, activeRunId: null, selected: [], suggestionsEnabled: true });
    assert.ok(isHostToModels(update([{ ...run, suggestion }, { ...run, id: 'r2', suggestion: null }])));
    assert.ok(!isHostToModels(update([{ ...run, suggestion: { ...suggestion, weights: { network: 1 } } }])), 'a suggestion without its shares');
    assert.ok(isHostToModels(update([{ ...run, suggestion: { ...suggestion, wordStarts: 2512 } }])), 'with the word starts its shares are of');
    assert.ok(!isHostToModels(update([{ ...run, suggestion: { ...suggestion, wordStarts: '2512' } }])), 'a count that is not a whole number');
    const adapting = { ...suggestion, adaptation: { learningRate: 0.5, segmentTokens: 20 }, adaptedNetworkNatsPerChar: 1.38 };
    assert.ok(isHostToModels(update([{ ...run, suggestion: adapting }])), 'a suggestion model whose network adapts');
    assert.ok(!isHostToModels(update([{ ...run, suggestion: { ...adapting, adaptation: 'yes' } }])), 'adaptation that is not its settings');
    assert.ok(!isHostToModels(update([{ ...run, suggestion: { ...adapting, adaptedNetworkNatsPerChar: '1.38' } }])), 'a figure that is not a number');
  });

  it('names what suggests in whole percents', () => {
    assert.equal(mixtureShares({ weights: { network: 0.618, kn3: 0.251, cache: 0.131 } }), 'network 62% · KN3 25% · cache 13%');
    const weights = { network: 0.518, kn3: 0.251, cache: 0.031, neuralCache: 0.2 };
    assert.equal(mixtureShares({ weights }), 'network 52% · KN3 25% · cache 3% · neural cache 20%');
    assert.equal(
      mixtureShares({ weights, adaptation: { learningRate: 0.5, segmentTokens: 20 } }),
      'network 52% · KN3 25% · cache 3% · neural cache 20% · learns from the document',
    );
  });
});

describe('run formatting', () => {
  it('writes durations for people', () => {
    assert.equal(formatDuration(45), '45s');
    assert.equal(formatDuration(185), '3m 05s');
    assert.equal(formatDuration(3720), '1h 02m');
    assert.equal(formatDuration(undefined), '–');
  });

  it('has a model once an epoch finished, also while training on or after a stop', () => {
    assert.ok(hasModel(run));
    assert.ok(hasModel({ state: 'stopped', epochsDone: 1 }));
    assert.ok(hasModel({ state: 'training', epochsDone: 2 }));
    assert.ok(!hasModel({ state: 'stopped', epochsDone: 0 }));
    assert.ok(!hasModel({ state: 'queued', epochsDone: 0 }));
  });
});
