/** The engine's small parts that need no process: curve downsampling, progress throttling, settings. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SUGGEST_OPTIONS } from '../../src/core/predictor';
import type { RunSuggestionModel } from '../../src/core/suggestionModel';
import { HistoryRecorder, MAX_BATCH_POINTS } from '../../src/server/history';
import { suggestOptions } from '../../src/server/models';
import { summaryFields } from '../../src/server/runInfo';
import { parseInitOptions, parseSettings, DEFAULT_SETTINGS } from '../../src/server/settings';
import { ProgressThrottle } from '../../src/server/throttle';
import type { RunProgress } from '../../src/protocol/lsp';
import type { TrainSummary } from '../../src/protocol/types';

describe('the batch curve of a run', () => {
  it('keeps at most MAX_BATCH_POINTS evenly spaced points over the whole run', () => {
    const recorder = new HistoryRecorder('r');
    const total = 5 * MAX_BATCH_POINTS + 123;
    for (let step = 1; step <= total; step++) recorder.addBatch({ step, epoch: 1, loss: 1 / step, accuracy: 0 });
    const { batches } = recorder.toJSON();
    assert.ok(batches.length <= MAX_BATCH_POINTS && batches.length > MAX_BATCH_POINTS / 2, `${batches.length} points`);
    assert.equal(batches[0].step, 1);
    const gaps = new Set(batches.slice(1).map((b, i) => b.step - batches[i].step));
    assert.equal(gaps.size, 1, 'evenly spaced');
    assert.ok(total - batches.at(-1)!.step < [...gaps][0], 'reaches the end of the run');
  });

  it('keeps every point of a short run, and every epoch and sample', () => {
    const recorder = new HistoryRecorder('r');
    for (let step = 1; step <= 10; step++) recorder.addBatch({ step, epoch: 1, loss: 1, accuracy: 0 });
    recorder.addSample(1, 'Call me Ishmael');
    assert.equal(recorder.toJSON().batches.length, 10);
    assert.deepEqual(recorder.toJSON().samples, [{ epoch: 1, text: 'Call me Ishmael' }]);
  });
});

describe('progress throttling', () => {
  const batch = (step: number): RunProgress => ({
    runId: 'r',
    batch: { step, epoch: 1, epochs: 1, batch: step, batches: 100, loss: 1, accuracy: 0, tokensPerSecond: 1, elapsedSeconds: 0, etaSeconds: 0 },
  });

  it('sends the first batch at once, then the latest one per interval', async () => {
    const sent: RunProgress[] = [];
    const throttle = new ProgressThrottle((p) => sent.push(p), 50);
    for (let step = 1; step <= 20; step++) throttle.batch(batch(step));
    assert.deepEqual(sent.map((p) => p.batch!.step), [1]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(sent.map((p) => p.batch!.step), [1, 20], 'the newest pending batch follows');
  });

  it('never holds back epochs or states, and sends a pending batch before them', () => {
    const sent: RunProgress[] = [];
    const throttle = new ProgressThrottle((p) => sent.push(p), 10_000);
    throttle.batch(batch(1));
    throttle.batch(batch(2));
    throttle.now({ runId: 'r', state: 'done' });
    assert.deepEqual(
      sent.map((p) => p.state ?? p.batch!.step),
      [1, 2, 'done'],
    );
  });
});

describe('engine settings from the client', () => {
  it('falls back to defaults for missing or out-of-range values', () => {
    assert.deepEqual(parseSettings(undefined), DEFAULT_SETTINGS);
    const settings = parseSettings({ suggestions: { enabled: false, maxWords: -1, minConfidence: 2 }, maxConcurrentRuns: 0 });
    assert.equal(settings.suggestions.enabled, false);
    assert.equal(settings.suggestions.maxWords, DEFAULT_SETTINGS.suggestions.maxWords);
    assert.equal(settings.suggestions.minConfidence, DEFAULT_SETTINGS.suggestions.minConfidence);
    assert.equal(settings.maxConcurrentRuns, DEFAULT_SETTINGS.maxConcurrentRuns);
  });

  it('leaves the threshold to each run unless the person set one, and keeps the core defaults', () => {
    assert.equal(DEFAULT_SETTINGS.suggestions.minConfidence, null);
    assert.equal(DEFAULT_SETTINGS.suggestions.maxWords, DEFAULT_SUGGEST_OPTIONS.maxWords);
    assert.equal(parseSettings({ suggestions: { minConfidence: null } }).suggestions.minConfidence, null);
    assert.equal(parseSettings({ suggestions: { minConfidence: 0 } }).suggestions.minConfidence, 0);
    assert.equal(parseSettings({ suggestions: { minConfidence: '0.5' } }).suggestions.minConfidence, null);
  });

  it('needs a runs folder', () => {
    assert.throws(() => parseInitOptions({ settings: {} }), /folder for runs/);
    assert.equal(parseInitOptions({ runsDir: '/tmp/runs' }).runsDir, '/tmp/runs');
  });
});

describe('the thresholds a run suggests at', () => {
  const fitted = { suggestion: { minConfidence: 0.45, minNextWordConfidence: 0.3 } as RunSuggestionModel };
  it("are the run's own two when the setting is null", () => {
    assert.deepEqual(suggestOptions({ maxWords: 2, minConfidence: null }, fitted), { maxWords: 2, minConfidence: 0.45, minNextWordConfidence: 0.3 });
  });
  it("are the person's one for both when they set one, even 0", () => {
    assert.deepEqual(suggestOptions({ maxWords: 2, minConfidence: 0 }, fitted), { maxWords: 2, minConfidence: 0 });
    assert.deepEqual(suggestOptions({ maxWords: 2, minConfidence: 0.7 }, fitted), { maxWords: 2, minConfidence: 0.7 });
  });
  it('is the default for a run saved before suggestion.json', () => {
    assert.equal(suggestOptions({ maxWords: 2, minConfidence: null }, {}).minConfidence, DEFAULT_SUGGEST_OPTIONS.minConfidence);
  });
});

describe('the figures of a finished run', () => {
  const summary = {
    cell: 'lstm',
    valLoss: 4.8,
    valPerplexity: 121.5,
    natsPerChar: 0.95,
    baselines: { uniform: 5000, unigram: 330, kn3: 129.3, kn3NatsPerChar: 0.96, unknownShare: 0.1 },
  } as unknown as TrainSummary;

  it('carries KN3 and nats per character to the Models view', () => {
    const fields = summaryFields(summary);
    assert.equal(fields.natsPerChar, 0.95);
    assert.deepEqual(fields.baselines, summary.baselines);
  });

  it('carries what suggests to the Models view, and null for a summary saved before suggestion.json', () => {
    const suggestion = {
      weights: { network: 0.6, kn3: 0.3, cache: 0.1 },
      newWordShare: 0.3,
      minConfidence: 0.2,
      natsPerChar: 0.9,
      keystrokeSavings: 0.31,
      wordStartOffered: 0.4,
      wordStartFirstWordRight: 0.45,
    };
    assert.deepEqual(summaryFields({ ...summary, suggestion }).suggestion, suggestion);
    assert.equal(summaryFields(summary).suggestion, null);
  });

  it('shows no baselines for a run saved when the bar was a bigram', () => {
    const old = { ...summary, natsPerChar: undefined, baselines: { uniform: 5000, unigram: 330, bigram: 147.5 } } as unknown as TrainSummary;
    assert.equal(summaryFields(old).baselines, undefined);
  });
});
