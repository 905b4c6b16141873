/**
 * The built `seqlab` command, run as a person runs it: real files, real exit codes.
 * `npm test` builds dist/ before the tests run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveTrainConfig } from '../../src/core/config';
import { trainRun } from '../../src/core/run';
import { CONFIDENCE_CANDIDATES } from '../../src/core/typing';
import type { SuggestionReport } from '../../src/protocol/types';
import { makeTempDir, mobyDickChapter, useWasm } from './helpers';

const CLI = path.resolve(__dirname, '../../bin/seqlab.js');

function seqlab(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Folders under runs/ whose config.json claims a finished run. */
async function finishedRuns(cwd: string): Promise<string[]> {
  const root = path.join(cwd, 'runs');
  const names = await fs.readdir(root).catch(() => [] as string[]);
  const finished: string[] = [];
  for (const name of names) {
    const record = await fs.readFile(path.join(root, name, 'config.json'), 'utf8').catch(() => '');
    if (/"status": "(done|stopped)"/.test(record)) finished.push(name);
  }
  return finished;
}

let cwd: string;
before(async () => {
  cwd = await makeTempDir('cli');
  await fs.writeFile(path.join(cwd, 'empty.txt'), '');
  await fs.writeFile(path.join(cwd, 'blank.txt'), '  \n\t\n   ');
  await fs.writeFile(path.join(cwd, 'image.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 0, 1, 2, 3]));
  await fs.writeFile(path.join(cwd, 'latin1.txt'), Buffer.from('Caf\xe9 cr\xe8me br\xfbl\xe9e is a dessert.', 'latin1'));
  await fs.writeFile(path.join(cwd, 'short.txt'), 'Just four words.');
  await fs.writeFile(path.join(cwd, 'chapter.txt'), mobyDickChapter(1));
  await fs.mkdir(path.join(cwd, 'damaged'));
  await fs.writeFile(path.join(cwd, 'damaged', 'config.json'), '{ not json');
});
after(() => fs.rm(cwd, { recursive: true, force: true }));

describe('seqlab on bad input', () => {
  const cases: [string, string[], RegExp][] = [
    ['a missing file', ['train', 'nowhere.txt'], /nowhere\.txt/],
    ['an empty file', ['train', 'empty.txt'], /empty\.txt.*empty/],
    ['a whitespace-only file', ['train', 'blank.txt'], /blank\.txt/],
    ['a binary file', ['train', 'image.bin'], /image\.bin.*binary/],
    ['a file that is not UTF-8 or UTF-16', ['train', 'latin1.txt'], /latin1\.txt/],
    ['a file too short to train on', ['train', 'short.txt'], /short\.txt has \d+ tokens; training needs at least \d+\./],
    ['a non-numeric option', ['train', 'chapter.txt', '--units', 'many'], /--units needs a whole number, not "many"\./],
    ['an out-of-range option', ['train', 'chapter.txt', '--lr', '-1'], /--lr must be a number above 0/],
    ['an unknown cell', ['train', 'chapter.txt', '--cell', 'transformer'], /--cell must be one of rnn, gru, lstm/],
    ['an unknown option', ['train', 'chapter.txt', '--colour', 'blue'], /colour/],
    ['an unknown cell in a comparison', ['compare', 'chapter.txt', '--cells', 'rnn,cnn'], /--cells takes/],
    ['a damaged model folder', ['generate', '--model', 'damaged', '--prompt', 'Call me'], /config\.json/],
    ['a top-p out of range', ['generate', '--model', 'damaged', '--prompt', 'Call me', '--top-p', '1.5'], /--top-p must be a number above 0 and at most 1\./],
    ['a beam with drawn words', ['generate', '--model', 'damaged', '--prompt', 'Call me', '--temperature', '0.8', '--beam', '4'], /--beam follows the likeliest continuations, so it needs --temperature 0/],
    ['a beam too wide', ['generate', '--model', 'damaged', '--prompt', 'Call me', '--beam', '100'], /--beam must be a whole number from 1 to 32\./],
    ['a no-repeat that is not a whole number', ['generate', '--model', 'damaged', '--prompt', 'Call me', '--no-repeat', '2.5'], /--no-repeat must be a whole number from 0 to 10\./],
    ['a missing model folder', ['eval', '--model', 'nothing-here', 'chapter.txt'], /nothing-here/],
    ['no file at all', ['train'], /Name at least one text file/],
    ['a binary file for the quality bench', ['bench', '--quality', 'image.bin'], /image\.bin.*binary/],
    ['a quality bench cut too short', ['bench', '--quality', '--words', '100'], /--words must be a whole number from 5,000 to 200,000\./],
    ['a quality bench cut of the person\'s own files', ['bench', '--quality', 'chapter.txt', '--words', '10000'], /--words cuts the built-in texts; your own files are read whole\./],
    ['a text file for a speed bench', ['bench', 'chapter.txt'], /Only the quality bench \(--quality\) reads text files\./],
  ];
  for (const [name, args, message] of cases) {
    it(`explains ${name} in one sentence and exits 1`, async () => {
      const { code, stdout, stderr } = seqlab(args, cwd);
      assert.equal(code, 1, stderr);
      assert.equal(stdout, '');
      assert.match(stderr, message);
      assert.equal(stderr.trim().split('\n').length, 1, `more than one line:\n${stderr}`);
      assert.doesNotMatch(stderr, /\bat .*\.js:\d+/, 'stack trace printed');
      assert.deepEqual(await finishedRuns(cwd), []);
    });
  }
});

describe('seqlab train, generate and eval on a chapter', () => {
  let summary: Record<string, unknown>;
  before(() => {
    const args = ['train', 'chapter.txt', '--cell', 'gru', '--epochs', '2', '--units', '32', '--embedding', '16', '--json'];
    const result = seqlab(args, cwd);
    assert.equal(result.code, 0, result.stderr);
    summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
  });

  it('prints one JSON summary with the promised fields', () => {
    for (const key of ['cell', 'params', 'epochs', 'trainLoss', 'trainAccuracy', 'valLoss', 'valAccuracy', 'valPerplexity', 'natsPerChar', 'tokensPerSecond', 'seconds', 'backend', 'modelDir']) {
      assert.ok(key in summary, `missing ${key}`);
    }
    assert.equal(summary.cell, 'gru');
    assert.equal(summary.epochs, 2);
    assert.ok((summary.valPerplexity as number) < (summary.vocabSize as number));
    // A word-level model of English prose: a few nats per word over ~5 characters a word.
    assert.ok((summary.natsPerChar as number) > 0.5 && (summary.natsPerChar as number) < 5, String(summary.natsPerChar));
    const baselines = summary.baselines as Record<string, number>;
    assert.ok(baselines.kn3 < baselines.unigram && baselines.kn3NatsPerChar > 0.5);
    assert.ok(baselines.unknownShare > 0 && baselines.unknownShare < 0.5);
    assert.match(String(summary.backend), /^(tensorflow|wasm|cpu)$/);
  });

  it('fits a suggestion model after training: suggestion.json in the run folder, its figures in the summary', async () => {
    const suggestion = summary.suggestion as SuggestionReport;
    assert.ok(suggestion, 'the summary has a suggestion');
    const { network, kn3, cache, neuralCache = NaN } = suggestion.weights;
    assert.ok([network, kn3, cache, neuralCache].every((w) => w >= 0 && w <= 1), JSON.stringify(suggestion.weights));
    assert.ok(Math.abs(network + kn3 + cache + neuralCache - 1) < 1e-9, `weights sum to ${network + kn3 + cache + neuralCache}`);
    assert.ok(CONFIDENCE_CANDIDATES.includes(suggestion.minConfidence), `threshold ${suggestion.minConfidence}`);
    assert.ok(suggestion.natsPerChar !== null && suggestion.natsPerChar > 0.5 && suggestion.natsPerChar < 5, String(suggestion.natsPerChar));
    assert.ok(suggestion.keystrokeSavings >= 0 && suggestion.keystrokeSavings < 1);
    const saved = JSON.parse(await fs.readFile(path.join(cwd, String(summary.modelDir), 'suggestion.json'), 'utf8'));
    assert.deepEqual(saved.weights, suggestion.weights);
    assert.equal(saved.minConfidence, suggestion.minConfidence);
    assert.ok(saved.newWordShare >= 0 && saved.newWordShare < 1, String(saved.newWordShare));
    assert.equal(saved.newWordShare, suggestion.newWordShare);
    // The network adapting to the text was measured, and kept or not as the summary says.
    const adapted = suggestion.adaptedNetworkNatsPerChar;
    assert.ok(typeof adapted === 'number' && adapted > 0.5 && adapted < 5, String(adapted));
    assert.deepEqual(saved.adaptation, suggestion.adaptation);
  });

  it('generates text from the saved run: its likeliest words by default, the same text for the same seed when drawn', () => {
    const args = ['generate', '--model', String(summary.modelDir), '--prompt', 'Call me', '--words', '8'];
    const likeliest = seqlab([...args, '--json'], cwd);
    assert.equal(likeliest.code, 0, likeliest.stderr);
    const written = JSON.parse(likeliest.stdout) as { prompt: string; continuation: string; tokens: string[] };
    assert.equal(written.tokens.length, 8);
    assert.equal(seqlab(args, cwd).stdout, `Call me${written.continuation}\n`);
    // The default takes the likeliest word each time, as a beam of 1 does; a wider beam writes as many words.
    assert.deepEqual(JSON.parse(seqlab([...args, '--beam', '1', '--json'], cwd).stdout), written);
    const wide = seqlab([...args, '--beam', '8', '--json'], cwd);
    assert.equal(wide.code, 0, wide.stderr);
    assert.equal((JSON.parse(wide.stdout) as { tokens: string[] }).tokens.length, 8);
    const drawn = [...args, '--temperature', '0.8', '--seed', '5'];
    const first = seqlab(drawn, cwd);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^Call me\s?\S/);
    assert.equal(seqlab(drawn, cwd).stdout, first.stdout);
    const nucleus = seqlab([...drawn, '--top-p', '0.5', '--no-repeat', '0'], cwd);
    assert.equal(nucleus.code, 0, nucleus.stderr);
    assert.match(nucleus.stdout, /^Call me\s?\S/);
  });

  it('evaluates the run on another chapter, next to the baselines', () => {
    const other = path.join(cwd, 'chapter2.txt');
    return fs.writeFile(other, mobyDickChapter(2)).then(() => {
      const result = seqlab(['eval', '--model', String(summary.modelDir), 'chapter2.txt', '--json'], cwd);
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.ok(report.tokens > 1000);
      assert.ok(report.top5Accuracy >= report.top1Accuracy && report.top1Accuracy > 0);
      assert.ok(Math.abs(report.perplexity - Math.exp(report.loss)) < 1e-6 * report.perplexity);
      assert.ok(report.keystrokeSavings >= 0 && report.keystrokeSavings < 1);
      // The run's own suggestion model, scored on this text beside the network alone.
      assert.deepEqual(report.suggestion.weights, (summary.suggestion as SuggestionReport).weights);
      assert.ok(report.suggestion.keystrokeSavings >= 0 && report.suggestion.keystrokeSavings < 1);
      // The word starts typed come with the shares, as their denominator, so a reader can tell their noise.
      const { wordStarts, wordStartOffered } = report.suggestion;
      assert.ok(Number.isInteger(wordStarts) && wordStarts > 100, String(wordStarts));
      assert.ok(Math.abs(wordStartOffered * wordStarts - Math.round(wordStartOffered * wordStarts)) < 1e-6, `${wordStartOffered} of ${wordStarts}`);
      assert.equal(report.baselines.uniform, summary.vocabSize);
      assert.ok(report.baselines.kn3 < report.baselines.unigram);
      // The network and KN3 read the same targets, so nats per character ranks them as perplexity does.
      assert.equal(report.natsPerChar < report.baselines.kn3NatsPerChar, report.perplexity < report.baselines.kn3);
    });
  });

  it('prints a table of the network beside KN3, the unigram and the uniform guess', () => {
    const result = seqlab(['eval', '--model', String(summary.modelDir), 'chapter.txt'], cwd);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^network\s+[\d.]+\s+[\d.]+\s+[\d.]+%/m);
    assert.match(result.stdout, /^KN3\s+[\d.]+\s+[\d.]+$/m);
    assert.match(result.stdout, /[\d.]+% of the targets are unknown words\./);
  });

  it('evaluates a run saved before spelling.json and KN3, without nats per character', async () => {
    const old = path.join(cwd, 'old-run');
    await fs.cp(path.resolve(cwd, String(summary.modelDir)), old, { recursive: true });
    // A run of that SeqLab had neither spelling.json nor suggestion.json.
    await fs.rm(path.join(old, 'spelling.json'));
    await fs.rm(path.join(old, 'suggestion.json'));
    // SeqLab 0.1's ngrams.json: unigram counts and word pairs of a stream 1 2 1 2 3.
    const vocabSize = summary.vocabSize as number;
    const unigrams = Array.from({ length: vocabSize }, (_, id) => [0, 2, 2, 1][id] ?? 0);
    await fs.writeFile(path.join(old, 'ngrams.json'), JSON.stringify({ format: 'seqlab-ngrams', version: 1, vocabSize, unigrams, bigrams: [1, 2, 2, 2, 1, 1, 2, 3, 1] }));
    const result = seqlab(['eval', '--model', old, 'chapter.txt', '--json'], cwd);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.natsPerChar, null);
    assert.equal(report.baselines.kn3NatsPerChar, null);
    assert.equal(report.suggestion, null, 'the network suggests alone');
    assert.ok(Number.isFinite(report.baselines.kn3));
  });
});

describe('seqlab eval on the validation split', () => {
  it('re-reads the training file, and refuses once the file has changed', async () => {
    await fs.writeFile(path.join(cwd, 'copy.txt'), mobyDickChapter(3));
    const trained = seqlab(['train', 'copy.txt', '--epochs', '1', '--units', '16', '--embedding', '8', '--json', '--out', 'eval-runs'], cwd);
    assert.equal(trained.code, 0, trained.stderr);
    const { modelDir, valLoss } = JSON.parse(trained.stdout);
    const evaluated = seqlab(['eval', '--model', modelDir, '--json'], cwd);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const report = JSON.parse(evaluated.stdout);
    // The same split scored again gives the loss training reported for its best epoch.
    assert.ok(Math.abs(report.loss - valLoss) < 1e-4, `${report.loss} vs ${valLoss}`);
    await fs.appendFile(path.join(cwd, 'copy.txt'), '\nOne more line.');
    const refused = seqlab(['eval', '--model', modelDir], cwd);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /has changed since training; name a file to evaluate on\./);
  });
});

describe('seqlab compare', () => {
  it('trains the three cells on the same split and prints one table and samples', () => {
    const result = seqlab(['compare', 'chapter.txt', '--epochs', '1', '--units', '16', '--embedding', '8', '--out', 'compare-runs'], cwd);
    assert.equal(result.code, 0, result.stderr);
    for (const cell of ['rnn', 'gru', 'lstm']) assert.match(result.stdout, new RegExp(`^${cell}\\s+[\\d,]+\\s+1/1`, 'm'));
    assert.match(result.stdout, /Baselines on the same split: KN3 perplexity [\d.]+ \([\d.]+ nats\/char\), unigram [\d.]+, uniform \d+/);
    assert.match(result.stdout, /Unknown words: [\d.]+% of the targets\./);
    assert.match(result.stdout, /suggest nats\/char\s+keys saved/);
    assert.match(result.stdout, /^Suggestions mix: rnn network \d+% · KN3 \d+% · cache \d+% · neural cache \d+%( · learns from the document)?, shown at [\d.]+% confidence; gru /m);
    assert.match(result.stdout, /Sample continuations of "/);
  });

  it('ends with one JSON line of runs and baselines', async () => {
    const result = seqlab(['compare', 'chapter.txt', '--cells', 'lstm,rnn', '--epochs', '1', '--units', '16', '--embedding', '8', '--json', '--out', 'compare-json'], cwd);
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual(parsed.runs.map((r: { cell: string }) => r.cell), ['lstm', 'rnn']);
    assert.equal(parsed.runs[0].valLoss === parsed.runs[1].valLoss, false);
    assert.deepEqual(Object.keys(parsed.baselines).sort(), ['kn3', 'kn3NatsPerChar', 'uniform', 'unigram', 'unknownShare']);
    // With more than one core the cells train at the same time, each in its own worker.
    if (os.availableParallelism() > 1) {
      const spans = await Promise.all(
        parsed.runs.map(async (run: { modelDir: string }) => {
          const record = JSON.parse(await fs.readFile(path.join(cwd, run.modelDir, 'config.json'), 'utf8'));
          return [Date.parse(record.createdAt), Date.parse(record.finishedAt)];
        }),
      );
      assert.ok(spans[0][0] < spans[1][1] && spans[1][0] < spans[0][1], `the runs did not overlap: ${JSON.stringify(spans)}`);
    }
  });
});

describe('seqlab train --resume', () => {
  const settings = ['--epochs', '4', '--patience', '0', '--units', '24', '--embedding', '24', '--backend', 'wasm'];

  it('goes on from the last epoch a stopped run finished and ends where a run straight through ends', async () => {
    const straight = seqlab(['train', 'chapter.txt', ...settings, '--out', 'straight', '--json'], cwd);
    assert.equal(straight.code, 0, straight.stderr);

    // The same run, stopped after its second epoch (as Ctrl+C or a window reload stops it).
    await useWasm();
    const config = resolveTrainConfig({ epochs: 4, patience: 0, units: 24, embedding: 24, backend: 'wasm' });
    const stop = new AbortController();
    const text = mobyDickChapter(1);
    const stopped = await trainRun(
      { text, sources: [path.join(cwd, 'chapter.txt')], name: 'chapter.txt', config, runsDir: path.join(cwd, 'stopped'), runName: 'run' },
      { onEpoch: (m) => (m.epoch === 2 ? stop.abort() : undefined) },
      stop.signal,
    );
    assert.equal(stopped.stopReason, 'cancelled');

    const resumed = seqlab(['train', '--resume', stopped.modelDir, '--json'], cwd);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming/);
    const [a, b] = [JSON.parse(straight.stdout), JSON.parse(resumed.stdout)];
    assert.equal(b.epochs, 4);
    assert.equal(b.stopReason, 'completed');
    assert.equal(b.valLoss, a.valLoss, 'the resumed run ends with the straight run\'s validation loss');
    const metrics = (await fs.readFile(path.join(stopped.modelDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line).epoch);
    assert.deepEqual(metrics, [1, 2, 3, 4], 'one curve, without the epoch that was cut short');

    // Finished now: nothing to resume. And a run cannot go on with a different text.
    const again = seqlab(['train', '--resume', stopped.modelDir], cwd);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /finished, so there is nothing to resume/);
  });

  it('refuses another text with a sentence', async () => {
    const config = resolveTrainConfig({ epochs: 3, patience: 0, units: 24, embedding: 24, backend: 'wasm' });
    const stop = new AbortController();
    const stopped = await trainRun(
      { text: mobyDickChapter(1), sources: [], name: 'chapter', config, runsDir: path.join(cwd, 'other'), runName: 'run' },
      { onEpoch: () => stop.abort() },
      stop.signal,
    );
    await fs.writeFile(path.join(cwd, 'chapter2.txt'), mobyDickChapter(2));
    const result = seqlab(['train', '--resume', stopped.modelDir, 'chapter2.txt'], cwd);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /not the text the run .* trained on/);
    const noFile = seqlab(['train', '--resume', stopped.modelDir], cwd);
    assert.match(noFile.stderr, /not in a file .*; name the file to resume on/);
  });
});
