/**
 * Engine protocol tests: start the real engine (dist/server.js) as a child process and
 * speak LSP to it over stdio, as an editor would: initialize, open documents, train tiny
 * models, follow progress, ask for inline completions, stop, crash and restart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { inspectCells, rankModelUnits } from '../../src/core/inspect/cells';
import { rankingText } from '../../src/core/inspect/rankingText';
import { Predictor } from '../../src/core/predictor';
import { loadRun, loadSpelling } from '../../src/core/store';
import { suggestOptions } from '../../src/server/models';
import { computeSurprisal } from '../../src/core/inspect/surprisal';
import type { SurprisalGuessesResult, SurprisalResult } from '../../src/protocol/surprisal';
import {
  Methods,
  type EngineSettings,
  type RunHistory,
  type RunInfo,
  type RunProgress,
  type RunsResult,
  type SuggestionLatency,
  type TrainParams,
} from '../../src/protocol/lsp';
import type { CellInspection } from '../../src/protocol/cells';
import type { MeasuredMemory } from '../../src/protocol/memory';
import { measureMemory } from '../../src/core/inspect/memory';
import { validationText } from '../../src/core/run';
import { splitTokens } from '../../src/core/tokenizer';
import type { TrainConfig } from '../../src/protocol/types';
import { makeTempDir, mobyDickChapter, useWasm } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const SERVER = path.join(ROOT, 'dist', 'server.js');

/** Tiny models: a couple of seconds an epoch on a chapter. */
const TINY: Partial<TrainConfig> = { embedding: 12, units: 16, seqLen: 16, batch: 16, epochs: 2, dropout: 0, patience: 0 };
const SETTINGS: EngineSettings = { suggestions: { enabled: true, maxWords: 3, minConfidence: 0 }, maxConcurrentRuns: 2 };
/** Runs whose text is named so crash their worker after one batch (a hook in trainWorker.ts). */
const CRASHING_NAME = 'crash.txt';
const LOOMINGS = mobyDickChapter(1);
const FINAL_STATES = ['done', 'stopped', 'failed'];

/** A running engine and everything it has told us. */
class Engine {
  readonly progress: RunProgress[] = [];
  readonly latencies: SuggestionLatency[] = [];
  readonly logs: string[] = [];
  readonly interruptions: string[] = [];
  private readonly listeners = new Set<() => void>();
  private exited: Promise<void>;
  /** The engine's last lines on stderr, and how it ended: what a failure must show. */
  private stderrTail: string[] = [];
  private death?: string;

  private constructor(
    readonly child: ChildProcess,
    readonly rpc: MessageConnection,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => this.record(() => (this.death = `the engine exited (code ${code}, signal ${signal})`)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => (this.stderrTail = [...this.stderrTail, ...text.trimEnd().split('\n')].slice(-20)));
    rpc.onNotification(Methods.progress, (p: RunProgress) => this.record(() => this.progress.push(p)));
    rpc.onNotification(Methods.suggestionLatency, (l: SuggestionLatency) => this.record(() => this.latencies.push(l)));
    rpc.onNotification(Methods.runsInterrupted, (m: { runs: { message: string }[] }) => this.record(() => this.interruptions.push(...m.runs.map((run) => run.message))));
    rpc.onNotification('window/logMessage', (m: { message: string }) => this.record(() => this.logs.push(m.message)));
    rpc.listen();
  }

  static async start(runsDir: string, settings = SETTINGS): Promise<Engine> {
    const child = spawn(process.execPath, [SERVER, '--stdio'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, SEQLAB_TEST_CRASH_WORKER: CRASHING_NAME },
    });
    const engine = new Engine(child, createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!)));
    const result = await engine.request<{ capabilities: Record<string, unknown> }>('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions: { runsDir, settings },
    });
    assert.equal(result.capabilities.inlineCompletionProvider, true);
    engine.rpc.sendNotification('initialized', {});
    return engine;
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.rpc.sendRequest(method, params) as Promise<R>;
  }

  open(uri: string, text: string): void {
    this.rpc.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'plaintext', version: 1, text } });
  }

  runs(): Promise<RunsResult> {
    return this.request(Methods.runs, {});
  }

  async train(uri: string, corpusName: string, cells: TrainParams['cells'], config: Partial<TrainConfig> = TINY): Promise<string[]> {
    const params: TrainParams = { uri, corpusName, cells, config: config as TrainConfig };
    return (await this.request<{ runIds: string[] }>(Methods.train, params)).runIds;
  }

  /** Resolves with `find()` once it returns something, re-checking on every notification; fails at once if the engine dies. */
  until<T>(find: () => T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const settle = (outcome: () => void) => {
        this.listeners.delete(check);
        clearTimeout(timer);
        outcome();
      };
      const check = () => {
        const found = find();
        if (found !== undefined) settle(() => resolve(found));
        else if (this.death) settle(() => reject(new Error(`${this.death} while waiting for ${what}; its stderr ended: ${this.stderrTail.join(' / ')}`)));
      };
      const timer = setTimeout(() => settle(() => reject(new Error(`Timed out waiting for ${what}; last logs: ${this.logs.slice(-5).join(' | ')}`))), timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  finalState(runId: string): Promise<RunProgress> {
    return this.until(() => this.progress.find((p) => p.runId === runId && p.state && FINAL_STATES.includes(p.state)), `the end of ${runId}`);
  }

  async run(runId: string): Promise<RunInfo> {
    const found = (await this.runs()).runs.find((r) => r.id === runId);
    assert.ok(found, `${runId} is not listed`);
    return found;
  }

  async shutdown(): Promise<void> {
    await this.request('shutdown', null);
    this.rpc.sendNotification('exit');
    await this.exited;
    this.rpc.dispose();
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
    this.rpc.dispose();
  }

  private record(add: () => void): void {
    add();
    this.listeners.forEach((check) => check());
  }
}

/** The engine's error for a request, which must be one sentence for a person. */
async function requestError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('expected the request to fail'),
    (e: Error) => e,
  );
  assert.doesNotMatch(error.message, /\n/);
  assert.match(error.message, /\.$/);
  assert.equal(error.message.split(/[.!?] +[A-Z]/).length, 1, `not one sentence: ${error.message}`);
  return error.message;
}

/** Rebuilds the bundles when the engine's sources are newer (npm test has just built them). */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(...fs.readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs)));
  const sources = Math.max(...['server', 'core', 'protocol'].map((d) => newest(path.join(ROOT, 'src', d))));
  const built = ['server.js'].map((f) => path.join(ROOT, 'dist', f));
  if (built.every((f) => fs.existsSync(f) && fs.statSync(f).mtimeMs >= sources)) return;
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
}

const LOOMINGS_URI = 'file:///tmp/seqlab-test/loomings.txt';
const CRASH_URI = 'file:///tmp/seqlab-test/crash.txt';

describe('the engine over LSP', () => {
  let runsDir: string;
  let engine: Engine;
  let firstRun: string;
  let stoppedRun: string;

  before(async () => {
    ensureBuilt();
    await useWasm();
    runsDir = await makeTempDir('server');
    engine = await Engine.start(runsDir);
    engine.open(LOOMINGS_URI, LOOMINGS);
  });
  after(async () => {
    await engine?.kill().catch(() => undefined);
    await fsp.rm(runsDir, { recursive: true, force: true });
  });

  it('trains a model in a worker, reporting batches, epochs, samples and the end', async () => {
    const started = performance.now();
    [firstRun] = await engine.train(LOOMINGS_URI, 'loomings.txt', ['gru']);
    const end = await engine.finalState(firstRun);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(end.state, 'done');
    const mine = engine.progress.filter((p) => p.runId === firstRun);
    const batches = mine.filter((p) => p.batch).map((p) => p.batch!);
    assert.ok(batches.length > 0, 'no batch progress');
    assert.ok(batches.every((b, i) => i === 0 || b.step > batches[i - 1].step), 'steps must grow');
    // At most 10 batch notifications a second (plus the one that starts each interval).
    assert.ok(batches.length <= seconds * 10 + 2, `${batches.length} batch notifications in ${seconds.toFixed(1)} s`);
    assert.deepEqual(mine.filter((p) => p.epoch).map((p) => p.epoch!.epoch), [1, 2]);
    assert.equal(mine.filter((p) => p.sample).length, 2);
    assert.deepEqual(mine.filter((p) => p.state).map((p) => p.state), ['training', 'done']);

    const info = await engine.run(firstRun);
    assert.equal(info.state, 'done');
    assert.equal(info.corpusName, 'loomings.txt');
    assert.equal(info.cell, 'gru');
    assert.equal(info.epochsDone, 2);
    // Under `auto` the faster backend for this model, measured: wasm, or native TensorFlow where tfjs-node is built.
    assert.ok(['wasm', 'tensorflow'].includes(info.backend!), `backend ${info.backend}`);
    assert.match(JSON.parse(await fsp.readFile(path.join(info.dir, 'config.json'), 'utf8')).backendReason, /faster than|only fast backend/);
    assert.ok(info.params! > 0 && info.vocabSize! > 100 && info.bestEpoch! >= 1);
    assert.ok(info.bestValLoss! > 0 && info.valPerplexity! > 1);
    assert.ok(info.baselines!.unigram > 1);

    const { histories } = await engine.request<{ histories: RunHistory[] }>(Methods.history, { runIds: [firstRun, 'no-such-run'] });
    assert.equal(histories.length, 1);
    assert.ok(histories[0].batches.length > 0);
    assert.equal(histories[0].epochs.length, 2);
    assert.equal(histories[0].samples.length, 2);
    // The prompt and the 12 tokens written after it (words and punctuation).
    assert.ok(splitTokens(histories[0].samples[0].text).length >= 12, histories[0].samples[0].text);
  });

  it('suggests what the trained model predicts, as inline completions', async () => {
    await engine.request(Methods.setActiveModel, { runId: firstRun });
    assert.equal((await engine.runs()).activeRunId, firstRun);
    const run = await loadRun((await engine.run(firstRun)).dir);
    // The engine suggests with the run's suggestion model (network, KN3 and document cache), as eval scores it.
    assert.ok(run.suggestion, 'the trained run has a suggestion.json');
    const predictor = new Predictor(run.model, run.tokenizer, run.suggestion);
    const vocabulary = new Set(run.tokenizer.vocab);
    const cases = [
      'Call me Ishmael. I thought I would sail about a little and see the ', // the next words
      'Call me Ishmael. I thought I would sail about a little and see the wat', // finishing a word
    ];
    for (const [n, textBefore] of cases.entries()) {
      const uri = `file:///tmp/seqlab-test/typing-${n}.txt`;
      engine.open(uri, textBefore);
      const position = { line: 0, character: textBefore.length };
      const items = await engine.request<{ insertText: string; range: unknown }[] | null>('textDocument/inlineCompletion', {
        textDocument: { uri },
        position,
        context: { triggerKind: 1 },
      });
      const expected = predictor.suggest(textBefore, suggestOptions(SETTINGS.suggestions, run));
      assert.ok(expected, 'with minConfidence 0 the model always has a suggestion');
      assert.ok(items && items.length === 1, `no suggestion after ${JSON.stringify(textBefore)}`);
      assert.equal(items[0].insertText, expected.text);
      assert.deepEqual(items[0].range, { start: position, end: position });
      // Whatever the model says is made of its own words or the document's, starting with the one being typed.
      const typed = textBefore.slice(textBefore.lastIndexOf(' ') + 1);
      const words = run.tokenizer.tokenize(typed + items[0].insertText);
      const documentWords = new Set(run.tokenizer.tokenize(textBefore));
      const known = (w: string) => vocabulary.has(w) || documentWords.has(w);
      assert.ok(words.length > 0 && words.every(known), `${JSON.stringify(words)} are not all words of the model or the document`);
      if (typed) assert.ok(words[0].startsWith(typed));
    }
    predictor.dispose();
    run.model.dispose();
    await engine.until(() => (engine.latencies.length >= 2 ? true : undefined), 'latency notifications');
    assert.ok(engine.latencies.every((l) => l.runId === firstRun && l.milliseconds >= 0));

    // Typing on: the same document grows, and the engine answers from its cached state.
    const uri = 'file:///tmp/seqlab-test/typing-0.txt';
    let text = cases[0];
    for (const word of ['sea', 'and', 'the', 'ship']) {
      const character = text.length;
      text += word + ' ';
      engine.rpc.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: character },
        contentChanges: [{ range: { start: { line: 0, character }, end: { line: 0, character } }, text: word + ' ' }],
      });
      const items = await engine.request<unknown[] | null>('textDocument/inlineCompletion', {
        textDocument: { uri },
        position: { line: 0, character: text.length },
        context: { triggerKind: 1 },
      });
      assert.ok(items && items.length === 1);
    }
    const times = engine.latencies.slice(1).map((l) => l.milliseconds);
    process.stdout.write(`# engine-side suggestion latency (ms), after the first: ${times.map((t) => t.toFixed(1)).join(', ')}\n`);

    engine.rpc.sendNotification(Methods.settingsChanged, { ...SETTINGS, suggestions: { ...SETTINGS.suggestions, enabled: false } });
    const off = await engine.request('textDocument/inlineCompletion', {
      textDocument: { uri },
      position: { line: 0, character: text.length },
      context: { triggerKind: 1 },
    });
    assert.equal(off, null, 'suggestions are off');
    engine.rpc.sendNotification(Methods.settingsChanged, SETTINGS);
  });

  it('inspects the cells of a range with the active model, as the core computes them', async () => {
    // The active model is the GRU trained on Loomings; a range well inside the chapter.
    const lines = LOOMINGS.split('\n');
    const position = (offset: number) => {
      const line = LOOMINGS.slice(0, offset).split('\n').length - 1;
      return { line, character: offset - lines.slice(0, line).reduce((sum, l) => sum + l.length + 1, 0) };
    };
    const spanStart = LOOMINGS.indexOf('Circumambulate');
    const spanEnd = LOOMINGS.indexOf('But look!');
    const range = { start: position(spanStart), end: position(spanEnd) };
    const inspection = await engine.request<CellInspection>(Methods.inspectCells, { uri: LOOMINGS_URI, range });
    assert.equal(inspection.runId, firstRun);
    assert.equal(inspection.cell, 'gru');
    assert.equal(inspection.text, LOOMINGS.slice(spanStart, spanEnd));
    assert.ok(inspection.contextTokens > 0, 'the words before the range are read first');
    // Ranked on the run's validation text if its file is still on disk as it was, else on the document.
    const run = await loadRun((await engine.run(firstRun)).dir);
    const on = await rankingText(run.record, { text: LOOMINGS, name: 'loomings.txt' });
    assert.equal(inspection.rankedOn.source, on.source);
    assert.match(inspection.rankedOn.description, /loomings\.txt/);
    const ranked = await rankModelUnits(run.model, run.tokenizer, on);
    const expected = await inspectCells({ runId: firstRun, model: run.model, tokenizer: run.tokenizer, text: LOOMINGS, spanStart, spanEnd, ranked });
    run.model.dispose();
    assert.deepEqual(inspection.tokens, expected.tokens);
    for (const signal of ['h', 'update', 'reset', 'candidate'] as const) {
      const difference = Math.max(...inspection.values[signal]!.map((v, i) => Math.abs(v - expected.values[signal]![i])));
      assert.ok(difference < 1e-3, `${signal} differs by ${difference}`);
    }
    assert.deepEqual(inspection.ranking.h!.wordLength.map((c) => c.unit), expected.ranking.h!.wordLength.map((c) => c.unit));

    const empty = { start: position(spanStart), end: position(spanStart) };
    assert.match(await requestError(engine.request(Methods.inspectCells, { uri: LOOMINGS_URI, range: empty })), /no words/);
    assert.match(await requestError(engine.request(Methods.inspectCells, { uri: LOOMINGS_URI })), /needs the range/);
    assert.match(await requestError(engine.request(Methods.inspectCells, { uri: 'file:///nowhere.txt', range })), /not open/);
    assert.match(await requestError(engine.request(Methods.inspectCells, { uri: LOOMINGS_URI, range, runId: 'nope' })), /no run "nope"/);
  });

  it('measures memory through time of a finished run on its validation text, as the core does, and keeps it', async () => {
    // Measured on the run's held-out text, read again from its file: a sentence while the file is not there...
    const file = fileURLToPath(LOOMINGS_URI);
    await fsp.rm(file, { force: true });
    assert.match(await requestError(engine.request(Methods.inspectMemory, { runId: firstRun })), /can no longer be read; memory through time measures on held-out text/);
    // ...the curves once it is.
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, LOOMINGS);
    const memory = await engine.request<MeasuredMemory>(Methods.inspectMemory, { runId: firstRun });
    assert.equal(memory.run, firstRun);
    assert.equal(memory.cell, 'gru');
    assert.match(memory.text, /validation text .*loomings\.txt/);
    const run = await loadRun((await engine.run(firstRun)).dir);
    const expected = await measureMemory(run.model, run.tokenizer.encode(await validationText(run.record, 'the test needs it')));
    run.model.dispose();
    assert.equal(memory.tokens, expected.tokens);
    assert.deepEqual(memory.gradient.lags, expected.gradient.lags);
    memory.gradient.geometricMean.forEach((norm, i) => {
      const relative = Math.abs(norm - expected.gradient.geometricMean[i]) / expected.gradient.geometricMean[i];
      assert.ok(relative < 1e-3, `lag ${i + 1}: ${norm} against ${expected.gradient.geometricMean[i]}`);
    });
    memory.context.loss.forEach((loss, i) => assert.ok(Math.abs(loss - expected.context.loss[i]) < 1e-3, `context ${expected.context.contexts[i]}`));

    // Kept: with the text gone again, the run is not measured again (which would fail) but answered as before.
    await fsp.rm(file, { force: true });
    assert.deepEqual(await engine.request<MeasuredMemory>(Methods.inspectMemory, { runId: firstRun }), memory);
    assert.match(await requestError(engine.request(Methods.inspectMemory, { runId: 'nope' })), /no run "nope"/);
    assert.match(await requestError(engine.request(Methods.inspectMemory, {})), /needs runId/);
  });

  it('answers the surprisal of an open document per version, its guesses per token, and a sentence without a model or document', async () => {
    const uri = 'file:///tmp/seqlab-test/surprisal.txt';
    const text = 'Call me  Ishmael.\r\nSome years ago, never mind how long precisely, Zyxqwv the whale.\n\n\nThe end';
    await engine.request(Methods.setActiveModel, { runId: null });
    engine.open(uri, text);
    assert.match(await requestError(engine.request(Methods.surprisal, { uri })), /No model is chosen/);
    await engine.request(Methods.setActiveModel, { runId: firstRun });
    assert.match(await requestError(engine.request(Methods.surprisal, { uri: 'file:///tmp/seqlab-test/never-opened.txt' })), /is not open/);

    const result = await engine.request<SurprisalResult>(Methods.surprisal, { uri });
    assert.equal(result.version, 1);
    assert.equal(result.runId, firstRun);
    // The same figures as scoring the text here, in this process, with the saved run.
    const run = await loadRun((await engine.run(firstRun)).dir);
    const { seqLen, batch } = run.record.config;
    const expected = await computeSurprisal(run.model, run.tokenizer, text, { seqLen, batch, spelling: await loadSpelling(run.dir) });
    assert.equal(result.tokens.length, expected.length);
    result.tokens.forEach((token, i) => {
      const mine = expected.token(i);
      assert.deepEqual({ ...token, nats: null, spellingNats: null }, { ...mine, nats: null, spellingNats: null });
      if (mine.nats !== null) assert.ok(Math.abs(token.nats! - mine.nats) < 1e-4);
    });
    assert.equal(text.slice(result.tokens[2].start, result.tokens[2].end), 'Ishmael');
    const zyx = result.tokens.findIndex((t) => text.slice(t.start, t.end) === 'Zyxqwv');
    assert.ok(result.tokens[zyx].unknown && result.tokens[zyx].rank === null && result.tokens[zyx].spellingNats! > 0);
    const guesses = await engine.request<SurprisalGuessesResult>(Methods.surprisalGuesses, { uri, version: 1, index: zyx });
    assert.deepEqual(guesses.guesses.map((g) => g.token), expected.guesses(zyx).map((g) => g.token));
    run.model.dispose();

    // An edit makes a new version: scored again, and the old version's guesses are gone.
    engine.rpc.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: `The whale. ${text}` }] });
    const edited = await engine.request<SurprisalResult>(Methods.surprisal, { uri });
    assert.equal(edited.version, 2);
    assert.equal(edited.tokens.length, result.tokens.length + 3);
    assert.match(await requestError(engine.request(Methods.surprisalGuesses, { uri, version: 1, index: 1 })), /changed/);
    engine.rpc.sendNotification('textDocument/didClose', { textDocument: { uri } });
    assert.match(await requestError(engine.request(Methods.surprisal, { uri })), /is not open/);
  });

  it('stops a long run halfway and keeps its best epoch', async () => {
    [stoppedRun] = await engine.train(LOOMINGS_URI, 'loomings.txt', ['lstm'], { ...TINY, epochs: 200 });
    await engine.until(() => engine.progress.find((p) => p.runId === stoppedRun && p.epoch), 'the first epoch');
    await engine.request(Methods.stop, { runId: stoppedRun });
    assert.equal((await engine.finalState(stoppedRun)).state, 'stopped');
    const info = await engine.run(stoppedRun);
    assert.equal(info.state, 'stopped');
    assert.ok(info.bestEpoch! >= 1 && info.epochsDone < 200);
    const record = JSON.parse(await fsp.readFile(path.join(info.dir, 'config.json'), 'utf8'));
    assert.equal(record.status, 'stopped');
    // Its best epoch is a usable model.
    const { text } = await engine.request<{ text: string }>(Methods.generate, { runId: stoppedRun, prompt: 'Call me', words: 5, temperature: 0 });
    assert.ok(text.trim().length > 0, 'a stopped run generates text');
  });

  it('resumes a stopped run from its last epoch on its file, and its curves go on', async () => {
    const [run] = await engine.train(LOOMINGS_URI, 'loomings.txt', ['lstm'], { ...TINY, epochs: 6 });
    const queuedAt = (await engine.run(run)).createdAt;
    await engine.until(() => engine.progress.find((p) => p.runId === run && p.epoch), 'the first epoch');
    await engine.request(Methods.stop, { runId: run });
    assert.equal((await engine.finalState(run)).state, 'stopped');
    // The registry learns that its checkpoint is there just after the run reports its end.
    let stopped = await engine.run(run);
    for (let tries = 0; !stopped.resumable && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stopped = await engine.run(run);
    }
    assert.equal(stopped.resumable, true, 'a run stopped after an epoch can go on');
    assert.ok(stopped.epochsDone < 6);

    // Its text is read again from its file: refused while that file is missing...
    await fsp.rm(fileURLToPath(LOOMINGS_URI), { force: true });
    await assert.rejects(engine.request(Methods.resumeRun, { runId: run }), /can no longer be read; train a new run instead/);
    // ...and goes on once it is there as it was.
    await fsp.mkdir(path.dirname(fileURLToPath(LOOMINGS_URI)), { recursive: true });
    await fsp.writeFile(fileURLToPath(LOOMINGS_URI), LOOMINGS);
    await engine.request(Methods.resumeRun, { runId: run });
    await engine.until(() => engine.progress.find((p) => p.runId === run && p.state === 'done'), 'the resumed run to finish');
    const done = await engine.run(run);
    assert.equal(done.epochsDone, 6);
    // Its time (which names it, "LSTM 19:41") is when it was asked for, in the folder too, so it survives restarts.
    assert.equal(done.createdAt, queuedAt);
    assert.equal(JSON.parse(await fsp.readFile(path.join(done.dir, 'config.json'), 'utf8')).createdAt, queuedAt);
    assert.equal(done.resumable, false);
    const { histories } = await engine.request<{ histories: RunHistory[] }>(Methods.history, { runIds: [run] });
    assert.deepEqual(histories[0].epochs.map((m) => m.epoch), [1, 2, 3, 4, 5, 6], 'one curve, not two');
    await assert.rejects(engine.request(Methods.resumeRun, { runId: run }), /cannot be resumed: it finished/);
  });

  it('marks only a crashed run failed; the other run and the engine go on', async () => {
    engine.open(CRASH_URI, LOOMINGS);
    const [healthy] = await engine.train(LOOMINGS_URI, 'loomings.txt', ['rnn'], { ...TINY, epochs: 1 });
    const [crashing] = await engine.train(CRASH_URI, CRASHING_NAME, ['rnn'], { ...TINY, epochs: 1 });
    const crash = await engine.finalState(crashing);
    assert.equal(crash.state, 'failed');
    assert.match(crash.error!, /^The training worker crashed \(SIGSEGV\)\.$/);
    const { runs } = await engine.runs(); // still answering
    assert.equal(runs.find((r) => r.id === crashing)!.state, 'failed');
    const record = JSON.parse(await fsp.readFile(path.join(runsDir, crashing, 'config.json'), 'utf8'));
    assert.equal(record.status, 'failed');
    assert.equal((await engine.finalState(healthy)).state, 'done');

    // A damaged model folder cannot become the active model, and says why.
    const dir = (await engine.run(healthy)).dir;
    const weights = (await fsp.readdir(dir)).find((f) => f.endsWith('.bin'))!;
    await fsp.truncate(path.join(dir, weights), 10);
    const message = await requestError(engine.request(Methods.setActiveModel, { runId: healthy }));
    assert.match(message, /weights/);
    assert.equal((await engine.runs()).activeRunId, firstRun, 'the active model is unchanged');

    await engine.request(Methods.deleteRun, { runId: healthy });
    assert.ok(!(await engine.runs()).runs.some((r) => r.id === healthy));
    assert.ok(!fs.existsSync(dir));
  });

  it('refuses bad text and settings with one sentence', async () => {
    const cases: [string, string, RegExp, Partial<TrainConfig>?][] = [
      ['empty.txt', '', /"empty\.txt" is empty/],
      ['blank.txt', ' \n\t\n', /only whitespace/],
      ['short.txt', 'Call me Ishmael.', /short\.txt has \d+ tokens; training needs at least \d+\./],
      ['binary.bin', 'PK\u0003\u0004\u0000\u0000\u0001', /binary/],
      ['loomings.txt', LOOMINGS, /units must be a whole number/, { units: -3 }],
    ];
    for (const [name, text, expected, config] of cases) {
      const uri = `file:///tmp/seqlab-test/${name}`;
      engine.open(uri, text);
      assert.match(await requestError(engine.train(uri, name, ['lstm'], config)), expected);
    }
    assert.match(await requestError(engine.train('file:///not/open.txt', 'open.txt', ['lstm'])), /not open/);
    assert.match(await requestError(engine.train(LOOMINGS_URI, 'loomings.txt', [])), /at least one cell/);
    assert.match(await requestError(engine.request(Methods.setActiveModel, { runId: 'nope' })), /no run "nope"/);
  });

  it('compares cells on one text, queueing beyond the concurrency limit', async () => {
    const runIds = await engine.train(LOOMINGS_URI, 'loomings.txt', ['rnn', 'gru', 'lstm'], { ...TINY, epochs: 1 });
    assert.equal(runIds.length, 3);
    const listed = (await engine.runs()).runs.filter((r) => runIds.includes(r.id));
    assert.deepEqual(listed.map((r) => r.state).sort(), ['queued', 'training', 'training']);
    assert.equal(new Set(listed.map((r) => r.group)).size, 1);
    assert.ok(listed[0].group);

    // Stopping the queued run removes it: it has nothing to keep.
    const queued = listed.find((r) => r.state === 'queued')!;
    await engine.request(Methods.stop, { runId: queued.id });
    assert.equal((await engine.finalState(queued.id)).state, 'stopped');
    assert.ok(!(await engine.runs()).runs.some((r) => r.id === queued.id));
    assert.ok(!fs.existsSync(queued.dir));

    for (const id of runIds.filter((id) => id !== queued.id)) assert.equal((await engine.finalState(id)).state, 'done');
    const configs = (await engine.runs()).runs.filter((r) => runIds.includes(r.id)).map((r) => r.config);
    assert.deepEqual(new Set(configs.map((c) => JSON.stringify({ ...c, cell: undefined }))).size, 1, 'the same settings but the cell');
  });

  it('exports a run folder', async () => {
    const target = await makeTempDir('export');
    const { dir } = await engine.request<{ dir: string }>(Methods.exportRun, { runId: firstRun, target });
    assert.equal(dir, path.join(target, firstRun));
    for (const file of ['model.json', 'tokenizer.json', 'config.json', 'metrics.jsonl']) assert.ok(fs.existsSync(path.join(dir, file)), file);
    await loadRun(dir).then((run) => run.model.dispose());
    assert.match(await requestError(engine.request(Methods.exportRun, { runId: firstRun, target })), /already exists/);
    // As a Keras 3 model: the bundled engine writes the .keras zip with HDF5 weights (Keras loads it: kerasExport.test.ts).
    const keras = await engine.request<{ dir: string }>(Methods.exportRun, { runId: firstRun, target, format: 'keras' });
    assert.equal(keras.dir, path.join(target, `${firstRun}-keras`));
    assert.deepEqual(fs.readdirSync(keras.dir).sort(), ['README.md', 'model.keras', 'tokenizer.json']);
    // And back: imported as a new run that is listed at once and suggests.
    const { runId: imported } = await engine.request<{ runId: string }>(Methods.importRun, { file: path.join(keras.dir, 'model.keras') });
    const importedRun = await engine.run(imported);
    assert.equal(importedRun.state, 'done');
    const { text: continued } = await engine.request<{ text: string }>(Methods.generate, { runId: imported, prompt: 'Call me', words: 4, temperature: 0 });
    const { text: original } = await engine.request<{ text: string }>(Methods.generate, { runId: firstRun, prompt: 'Call me', words: 4, temperature: 0 });
    assert.equal(continued, original, 'the imported model continues as the run it came from');
    await engine.request(Methods.deleteRun, { runId: imported });
    assert.match(await requestError(engine.request(Methods.importRun, { file: path.join(keras.dir, 'README.md') })), /is not a \.keras file/);
    const archive = unzipSync(fs.readFileSync(path.join(keras.dir, 'model.keras')));
    assert.deepEqual(Object.keys(archive).sort(), ['config.json', 'metadata.json', 'model.weights.h5']);
    assert.equal(Buffer.from(archive['model.weights.h5'].subarray(0, 8)).toString('latin1'), '\x89HDF\r\n\x1a\n', 'an HDF5 file');

    // As a Keras experiment: a Python project with the run's text as token ids (kerasScript.test.ts runs it in Keras).
    await fsp.writeFile(fileURLToPath(LOOMINGS_URI), LOOMINGS);
    const experiment = await engine.request<{ dir: string }>(Methods.exportRun, { runId: firstRun, target, format: 'keras-script' });
    assert.equal(experiment.dir, path.join(target, `${firstRun}-keras-experiment`));
    for (const file of ['keras_experiment.py', 'experiment.json', 'data/train.json', 'data/validation.json', 'tokenizer.json', 'README.md']) {
      assert.ok(fs.existsSync(path.join(experiment.dir, file)), file);
    }
    // Its output folder (here made from the Keras export, as the script writes it) comes back with its curve, naming the run it repeats.
    const output = path.join(target, 'output');
    await fsp.mkdir(output);
    await fsp.copyFile(path.join(keras.dir, 'model.keras'), path.join(output, 'model.keras'));
    await fsp.copyFile(path.join(experiment.dir, 'tokenizer.json'), path.join(output, 'tokenizer.json'));
    await fsp.copyFile(path.join(experiment.dir, 'experiment.json'), path.join(output, 'experiment.json'));
    const [epoch] = (await engine.request<{ histories: RunHistory[] }>(Methods.history, { runIds: [firstRun] })).histories[0].epochs;
    await fsp.writeFile(path.join(output, 'metrics.jsonl'), JSON.stringify(epoch) + '\n');
    const { runId: repeated } = await engine.request<{ runId: string }>(Methods.importRun, { file: output });
    const repeatedRun = await engine.run(repeated);
    assert.equal(repeatedRun.reproduces, firstRun);
    assert.equal(repeatedRun.epochsDone, 1);
    assert.equal(repeatedRun.bestValLoss, epoch.valLoss);
    await engine.request(Methods.deleteRun, { runId: repeated });
    await fsp.rm(fileURLToPath(LOOMINGS_URI));
    assert.match(
      await requestError(engine.request(Methods.exportRun, { runId: firstRun, target, format: 'keras-script' })),
      /can no longer be read; a Keras experiment needs the text the run trained on/,
    );
    await fsp.rm(target, { recursive: true, force: true });
  });

  it('answers requests with missing parameters with a sentence, not an internal error', async () => {
    assert.match(await requestError(engine.request(Methods.generate, { runId: firstRun })), /seqlab\/generate needs prompt \(text\)/);
    const looping = { runId: firstRun, prompt: 'Call me', words: 4, temperature: 0, noRepeat: 99 };
    assert.match(await requestError(engine.request(Methods.generate, looping)), /noRepeat \(how many tokens in a row are never written twice\) must be a whole number from 0 to 10\./);
    assert.match(await requestError(engine.request(Methods.exportRun, {})), /seqlab\/exportRun needs runId and target \(text\)/);
    assert.match(await requestError(engine.request(Methods.resumeRun, undefined)), /seqlab\/resumeRun needs runId/);
    assert.match(await requestError(engine.request(Methods.deleteRun, { runId: 7 })), /seqlab\/deleteRun needs runId/);
  });

  it('refuses export targets that are relative, inside the runs folder or cannot hold a folder, with a sentence', async () => {
    const refused = (target: string) => requestError(engine.request(Methods.exportRun, { runId: firstRun, target }));
    assert.match(await refused('exports'), /by its full path; "exports" is relative/);
    assert.match(await refused(path.join(runsDir, 'inside')), /outside the folder SeqLab keeps its runs in/);
    // A target under /proc used to make the engine spin forever; it must answer, and go on answering.
    assert.match(await refused('/proc/seqlab-export'), /could not be created \(ENOENT\)/);
    assert.ok((await engine.runs()).runs.length > 0, 'the engine still answers');
  });

  it('lists damaged run folders as failed with the reason at start, and says why a folder is not listed', async () => {
    const source = path.join(runsDir, firstRun);
    const damaged = async (name: string, damage: (dir: string) => Promise<void>) => {
      const dir = path.join(runsDir, name);
      await fsp.cp(source, dir, { recursive: true });
      await damage(dir);
    };
    await damaged('cut-weights', async (dir) => {
      const weights = fs.readdirSync(dir).find((f) => /^weights-\d+\.bin$/.test(f))!;
      await fsp.truncate(path.join(dir, weights), 100);
    });
    await damaged('bad-tokenizer', (dir) => fsp.writeFile(path.join(dir, 'tokenizer.json'), 'garbage'));
    await damaged('bad-model', (dir) => fsp.writeFile(path.join(dir, 'model.json'), '{"modelTopology": 3'));
    await fsp.mkdir(path.join(runsDir, 'not-a-run'));
    await engine.shutdown();
    engine = await Engine.start(runsDir);
    for (const [id, reason] of [
      ['cut-weights', /are 100 bytes but model\.json needs \d+, so the folder is damaged/],
      ['bad-tokenizer', /tokenizer\.json/],
      ['bad-model', /model\.json/],
    ] as const) {
      const run = await engine.run(id);
      assert.equal(run.state, 'failed', id);
      assert.match(run.error!, /^The run's folder is damaged: /);
      assert.match(run.error!, reason);
    }
    assert.equal((await engine.run(firstRun)).state, 'done', 'the intact run stays done');
    await engine.until(() => engine.logs.find((line) => /Folder not-a-run in the runs folder is not listed: .*no config\.json/.test(line)), 'the log line');
    for (const id of ['cut-weights', 'bad-tokenizer', 'bad-model']) await engine.request(Methods.deleteRun, { runId: id });
    await fsp.rm(path.join(runsDir, 'not-a-run'), { recursive: true });
  });

  it('keeps its runs, curves and active model across a restart', async () => {
    const before = await engine.runs();
    await engine.shutdown();
    engine = await Engine.start(runsDir);
    const afterRestart = await engine.runs();
    const states = (result: RunsResult) => result.runs.map((r) => `${r.id} ${r.state}`).sort();
    assert.deepEqual(states(afterRestart), states(before));
    assert.equal(afterRestart.activeRunId, firstRun);
    const { histories } = await engine.request<{ histories: RunHistory[] }>(Methods.history, { runIds: [firstRun] });
    assert.ok(histories[0].batches.length > 0, 'per-batch curves are saved with the run');
    assert.equal(histories[0].epochs.length, 2);
    // The restored active model still suggests.
    engine.open('file:///tmp/seqlab-test/again.txt', 'Call me Ishmael. I thought I would ');
    const items = await engine.request<unknown[] | null>('textDocument/inlineCompletion', {
      textDocument: { uri: 'file:///tmp/seqlab-test/again.txt' },
      position: { line: 0, character: 35 },
      context: { triggerKind: 1 },
    });
    assert.ok(items && items.length === 1);
  });

  it('marks runs interrupted by a dead engine on the next start', async () => {
    engine.open(LOOMINGS_URI, LOOMINGS);
    const [interrupted] = await engine.train(LOOMINGS_URI, 'loomings.txt', ['gru'], { ...TINY, epochs: 200 });
    await engine.until(() => engine.progress.find((p) => p.runId === interrupted && p.epoch), 'the first epoch');
    // Its curves are saved after every epoch, not only at the end, so the kill below cannot take them.
    await engine.until(() => fs.existsSync(path.join(runsDir, interrupted, 'history.json')) || undefined, 'the curves saved after the first epoch');
    const batchesPerEpoch = engine.progress.find((p) => p.runId === interrupted && p.batch)!.batch!.batches;
    const deadPid = engine.child.pid!;
    await engine.kill();

    // A run that died before saving a model, and a run that was still queued.
    const noModel = path.join(runsDir, 'no-model');
    await fsp.mkdir(noModel);
    const record = JSON.parse(await fsp.readFile(path.join(runsDir, firstRun, 'config.json'), 'utf8'));
    await fsp.writeFile(path.join(noModel, 'config.json'), JSON.stringify({ ...record, status: 'training', summary: undefined }));
    const unstarted = path.join(runsDir, 'never-started');
    await fsp.mkdir(unstarted);
    await fsp.writeFile(path.join(unstarted, 'origin.json'), JSON.stringify({ corpusName: 'x', enginePid: deadPid }));

    engine = await Engine.start(runsDir);
    const stopped = await engine.run(interrupted);
    assert.equal(stopped.state, 'stopped');
    assert.ok(stopped.bestEpoch! >= 1);
    assert.equal(JSON.parse(await fsp.readFile(path.join(stopped.dir, 'config.json'), 'utf8')).status, 'stopped');
    // Its per-batch curve survives, and the dashboard can place its epoch points on the step axis.
    const [history] = (await engine.request<{ histories: RunHistory[] }>(Methods.history, { runIds: [interrupted] })).histories;
    assert.ok(history.batches.length > 0, 'the per-batch curve');
    assert.equal(history.batchesPerEpoch, batchesPerEpoch);
    // It says what happened, in the Models view and once in a notification.
    assert.match(stopped.interruption!, new RegExp(`GRU run ${interrupted} was interrupted after epoch \\d+/200 when the SeqLab engine stopped .*; its best epoch so far \\(${stopped.bestEpoch}\\) is kept\\.`));
    const failed = await engine.run('no-model');
    assert.equal(failed.state, 'failed');
    assert.match(failed.error!, /interrupted/);
    assert.match(failed.interruption!, /no epoch had finished, so it has no model\.$/);
    await engine.until(() => engine.interruptions.length === 2 || undefined, 'the interruption notice');
    assert.deepEqual([...engine.interruptions].sort(), [stopped.interruption, failed.interruption].sort());
    assert.ok(!fs.existsSync(unstarted), 'the folder of a run that never started is removed');
    await engine.request(Methods.setActiveModel, { runId: interrupted }); // its best epoch loads
  });
});
