/**
 * The `seqlab` subcommands. Each reads its inputs, calls the engine and prints either a
 * human summary or, with --json, one JSON line on stdout.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { flagOf, parseCells, type ParsedArgs } from './args';
import { trainInWorkers } from './parallelRuns';
import { duration, percent, ProgressReporter } from './progress';
import { formatTable, oneLine } from './table';
import { initBackend } from '../core/backend';
import { resolveTrainConfig, SAMPLE_SAMPLING } from '../core/config';
import { UserError } from '../core/errors';
import { evaluateText } from '../core/evaluate';
import { exportKeras } from '../core/kerasExport';
import { exportKerasScript } from '../core/kerasScript';
import { importKeras, importKerasOutput } from '../core/kerasImport';
import { readCorpus } from '../core/input';
import { buildModel } from '../core/model';
import { Predictor } from '../core/predictor';
import { describeSampling, MAX_BEAM, MAX_NO_REPEAT } from '../core/sampling';
import { prepareText, readTrainingText, resumeRun, runFolderName, samplePrompt, trainRun, validationText, type PreparedText } from '../core/run';
import { loadNgrams, loadRun, loadSpelling, readRunRecord, type LoadedRun } from '../core/store';
import { trainModel } from '../core/train';
import { comparisonCosts, GATE_BLOCKS } from '../protocol/costs';
import { mixtureShares } from '../protocol/format';
import type { Baselines, CellType, SuggestionReport, TrainConfig, TrainSummary } from '../protocol/types';

export interface CommandIO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Aborted on Ctrl+C: training stops before the next batch and keeps its best epoch. */
  signal: AbortSignal;
}

/** Generated text shown after training or comparing: the same length for every model, drawn as every sample is. */
const SAMPLE = { words: 15, ...SAMPLE_SAMPLING };

export async function trainCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  if (typeof args.flags.resume === 'string') return resumeCommand(args.flags.resume, args, io);
  const config = resolveTrainConfig(args.train, flagOf);
  const { text, name, sources } = await readInputs(args.positionals);
  const prepared = prepareText(text, config, name);
  const summary = await trainOne(config, prepared, { text, name, sources }, outDir(args), io);
  if (args.flags.json) {
    io.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  printSummaries(io, [summary], summary.baselines);
  await printSamples(io, [summary], samplePrompt(prepared));
}

export async function compareCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  const cells = parseCells(args.flags.cells);
  const base = resolveTrainConfig(args.train, flagOf);
  const { text, name, sources } = await readInputs(args.positionals);
  // One tokenizer, split and seed for all cells, so the only difference is the cell.
  const prepared = prepareText(text, base, name);
  const concurrency = Math.min(cells.length, os.availableParallelism());
  let runs: TrainSummary[] = [];
  if (concurrency > 1) {
    // Each cell in its own worker, on its own core; progress as one line per epoch (two
    // live bars would overwrite each other).
    const reporters = cells.map((cell) => new ProgressReporter(io.stderr, cell, false));
    runs = await trainInWorkers(cells.map((cell) => ({ ...base, cell })), { text, name, sources }, outDir(args), concurrency, reporters, io.signal);
    runs.forEach((summary, i) => reporters[i].line(`${summary.cell}: ${summary.stopReason}, best epoch ${summary.bestEpoch}, saved to ${summary.modelDir}`));
  } else {
    for (const cell of cells) {
      if (io.signal.aborted) break;
      runs.push(await trainOne({ ...base, cell }, prepared, { text, name, sources }, outDir(args), io));
    }
  }
  if (args.flags.json) {
    io.stdout.write(JSON.stringify({ runs, baselines: prepared.baselines }) + '\n');
    return;
  }
  printSummaries(io, runs, prepared.baselines);
  printCosts(io, runs, base);
  await printSamples(io, runs, typeof args.flags.prompt === 'string' ? args.flags.prompt : samplePrompt(prepared));
}

export async function generateCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  const dir = requireString(args.flags.model, '--model DIR names the run folder to generate from.');
  const prompt = requireString(args.flags.prompt, '--prompt TEXT gives the text to continue.');
  const words = (args.flags.words as number | undefined) ?? 20;
  const temperature = (args.flags.temperature as number | undefined) ?? SAMPLE_SAMPLING.temperature;
  const topP = (args.flags['top-p'] as number | undefined) ?? 1;
  const noRepeat = (args.flags['no-repeat'] as number | undefined) ?? SAMPLE_SAMPLING.noRepeat;
  const beam = (args.flags.beam as number | undefined) ?? 1;
  if (!Number.isInteger(words) || words < 1 || words > 10000) throw new UserError('--words must be a whole number from 1 to 10000.');
  if (temperature < 0 || temperature > 10) throw new UserError('--temperature must be a number from 0 to 10.');
  if (!(topP > 0 && topP <= 1)) throw new UserError('--top-p must be a number above 0 and at most 1.');
  if (!Number.isInteger(noRepeat) || noRepeat < 0 || noRepeat > MAX_NO_REPEAT) throw new UserError(`--no-repeat must be a whole number from 0 to ${MAX_NO_REPEAT}.`);
  if (!Number.isInteger(beam) || beam < 1 || beam > MAX_BEAM) throw new UserError(`--beam must be a whole number from 1 to ${MAX_BEAM}.`);
  if (beam > 1 && temperature > 0) throw new UserError('--beam follows the likeliest continuations, so it needs --temperature 0; drawn text takes one word at a time.');
  const run = await loadRunOnBackend(dir, args);
  const predictor = new Predictor(run.model, run.tokenizer);
  try {
    const result = predictor.generate(prompt, { words, temperature, topP, noRepeat, beam, seed: args.train.seed ?? 1 });
    if (args.flags.json) io.stdout.write(JSON.stringify({ prompt, continuation: result.text, tokens: result.tokens }) + '\n');
    else io.stdout.write(prompt + result.text + '\n');
  } finally {
    predictor.dispose();
    run.model.dispose();
  }
}

/**
 * `seqlab export --keras --model DIR OUT`: the run as a Keras 3 model (kerasExport.ts);
 * `--keras-script`: its experiment as a Keras project that trains it again (kerasScript.ts).
 */
export async function exportCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  const dir = requireString(args.flags.model, '--model DIR names the run folder to export.');
  const script = args.flags['keras-script'];
  if (!args.flags.keras && !script) {
    throw new UserError('Say what to export to: --keras (a Keras 3 model.keras with its tokenizer) or --keras-script (a Python project that trains the run again in Keras).');
  }
  const [out] = args.positionals;
  if (!out || args.positionals.length > 1) throw new UserError('Name one folder to export into, e.g. seqlab export --keras --model runs/RUN keras-model.');
  const run = await loadRunOnBackend(dir, args);
  try {
    const text = script ? await readTrainingText(run.record, 'a script needs the text the run trained on') : '';
    const files = script ? await exportKerasScript(run, text, out) : await exportKeras(run, out);
    io.stdout.write(files.map((file) => `${file}\n`).join(''));
  } finally {
    run.model.dispose();
  }
}

/**
 * `seqlab import MODEL.keras [--tokenizer FILE] [--out DIR]`: a Keras 3 model as a run
 * (kerasImport.ts); the tokenizer defaults to the tokenizer.json beside the model. A
 * Keras experiment's output folder comes back with its settings and curves.
 */
export async function importCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  const [file] = args.positionals;
  if (!file || args.positionals.length > 1) throw new UserError('Name one .keras file or Keras experiment output folder to import, e.g. seqlab import exported/model.keras.');
  const tokenizer = typeof args.flags.tokenizer === 'string' ? args.flags.tokenizer : nodePath.join(nodePath.dirname(file), 'tokenizer.json');
  const backend = await initBackend(resolveTrainConfig(args.train, flagOf).backend);
  const isFolder = await fs.stat(file).then((s) => s.isDirectory(), () => false);
  const dir = isFolder ? await importKerasOutput(file, outDir(args), backend) : await importKeras(file, tokenizer, outDir(args), backend);
  io.stdout.write(`${dir}\n`);
}

export async function evalCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  const dir = requireString(args.flags.model, '--model DIR names the run folder to evaluate.');
  const run = await loadRunOnBackend(dir, args);
  try {
    const counts = { ngrams: await loadNgrams(dir), spelling: await loadSpelling(dir), suggestion: run.suggestion };
    const text = args.positionals.length > 0 ? (await readInputs(args.positionals)).text : await heldOutText(run);
    const report = await evaluateText(run.model, run.tokenizer, counts, text, run.record.config);
    if (args.flags.json) {
      io.stdout.write(JSON.stringify(report) + '\n');
      return;
    }
    const { baselines } = report;
    io.stdout.write(
      formatTable(
        ['model', 'perplexity', 'nats/char', 'top-1', 'top-5', 'keystrokes saved'],
        [
          [
            'network',
            report.perplexity.toFixed(1),
            natsPerChar(report.natsPerChar),
            percent(report.top1Accuracy),
            percent(report.top5Accuracy),
            percent(report.keystrokeSavings),
          ],
          // The network as the suggestions run it, learning from the text as it reads (adaptation.ts).
          ...(report.suggestion?.adaptedNetworkNatsPerChar !== undefined
            ? [['network, adapting', '', natsPerChar(report.suggestion.adaptedNetworkNatsPerChar), '', '', '']]
            : []),
          ...(report.suggestion
            ? [['suggestions', '', natsPerChar(report.suggestion.natsPerChar), '', '', percent(report.suggestion.keystrokeSavings)]]
            : []),
          ['KN3', baselines.kn3.toFixed(1), natsPerChar(baselines.kn3NatsPerChar)],
          ['unigram', baselines.unigram.toFixed(1)],
          ['uniform', String(baselines.uniform)],
        ],
      ) +
        `\n${report.tokens.toLocaleString('en')} tokens scored, loss ${report.loss.toFixed(3)}; ` +
        `${percent(baselines.unknownShare)} of the targets are unknown words.${counts.spelling ? '' : ' This run has no spelling.json (saved by an older SeqLab), so nats/char is unknown.'}\n` +
        suggestionLine(report.suggestion),
    );
  } finally {
    run.model.dispose();
  }
}

/** The four sentences of the Keras article this project grew from. */
export const DEMO_TEXT = [
  'This is the first document.',
  'This document is the second document.',
  'And this is the third one.',
  'Is this the first document?',
].join('\n');

/** The article's settings: Embedding 50, 100 units, Adam, 100 epochs, every sentence trained on. */
export const DEMO_CONFIG: Partial<TrainConfig> = {
  minCount: 1,
  embedding: 50,
  units: 100,
  epochs: 100,
  learningRate: 0.01,
  // The article's plain recipe: no regularisers (there is nothing held out to generalise to).
  dropout: 0,
  inputDropout: 0,
  weightDrop: 0,
  distill: 0,
  subwordVectors: false,
  rareAsUnknown: 0,
  averageDecay: 0,
  valSplit: 0,
  patience: 0,
};
const DEMO_PROMPT = 'This is';
const DEMO_WORDS = 5;

export interface DemoResult {
  cell: CellType;
  accuracy: number;
  loss: number;
  seconds: number;
  continuation: string;
}

/** Trains the three cells on the demo sentences in memory and continues "This is". */
export async function runDemo(io: Pick<CommandIO, 'stderr' | 'signal'>, overrides: Partial<TrainConfig> = {}): Promise<DemoResult[]> {
  const results: DemoResult[] = [];
  for (const cell of ['rnn', 'gru', 'lstm'] as const) {
    const config = resolveTrainConfig({ ...DEMO_CONFIG, ...overrides, cell }, flagOf);
    await initBackend(config.backend);
    const prepared = prepareText(DEMO_TEXT, config, 'The demo text');
    const model = buildModel({ ...config, vocabSize: prepared.tokenizer.vocabSize }, config.seed);
    try {
      const progress = new ProgressReporter(io.stderr, cell);
      const result = await trainModel(model, prepared.split, config, { onBatch: (p) => progress.batch(p) }, io.signal);
      const last = result.history[result.history.length - 1];
      progress.line(`${cell}: ${result.history.length} epochs, loss ${last.loss.toFixed(4)}, accuracy ${percent(last.accuracy)}`);
      const predictor = new Predictor(model, prepared.tokenizer);
      const continuation = predictor.generate(DEMO_PROMPT, { words: DEMO_WORDS, temperature: 0 }).text;
      predictor.dispose();
      results.push({ cell, accuracy: last.accuracy, loss: last.loss, seconds: result.seconds, continuation });
    } finally {
      model.dispose();
    }
  }
  return results;
}

export async function demoCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  const results = await runDemo(io, args.train);
  if (args.flags.json) {
    io.stdout.write(JSON.stringify({ prompt: DEMO_PROMPT, backend: tf.getBackend(), results }) + '\n');
    return;
  }
  io.stdout.write(`\nThe Keras toy experiment on four sentences, backend ${tf.getBackend()}:\n\n`);
  io.stdout.write(
    formatTable(
      ['cell', 'train accuracy', 'loss', 'time', `"${DEMO_PROMPT}" + ${DEMO_WORDS} words (greedy)`],
      results.map((r) => [r.cell, percent(r.accuracy), r.loss.toFixed(4), duration(r.seconds), oneLine(DEMO_PROMPT + r.continuation)]),
    ) + '\n',
  );
}

/**
 * `seqlab train --resume RUN [FILE...]`: goes on from the run's last completed epoch, on
 * the files named or else the ones it trained on (both checked against the text's hash).
 */
async function resumeCommand(dir: string, args: ParsedArgs, io: CommandIO): Promise<void> {
  if (Object.keys(args.train).length > 0) {
    throw new UserError('A resumed run keeps the settings it started with; leave out the training options.');
  }
  const record = await readRunRecord(dir);
  const text = args.positionals.length > 0 ? (await readCorpus(args.positionals)).text : await readTrainingText(record, 'name the file to resume on');
  const progress = new ProgressReporter(io.stderr, record.config.cell);
  const summary = await resumeRun(
    dir,
    text,
    {
      onStart: (info) => {
        progress.line(`${record.config.cell}: resuming ${dir}`);
        progress.start(info);
      },
      onBatch: (p) => progress.batch(p),
      onEpoch: (m) => progress.epoch(m),
    },
    io.signal,
  );
  progress.line(`${record.config.cell}: ${summary.stopReason}, best epoch ${summary.bestEpoch}, saved to ${summary.modelDir}`);
  if (args.flags.json) {
    io.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  printSummaries(io, [summary], summary.baselines);
}

async function trainOne(
  config: TrainConfig,
  prepared: PreparedText,
  input: { text: string; name: string; sources: string[] },
  out: string,
  io: CommandIO,
): Promise<TrainSummary> {
  const progress = new ProgressReporter(io.stderr, config.cell);
  const summary = await trainRun(
    { ...input, config, runsDir: out, runName: runFolderName(input.name, config.cell) },
    {
      onStart: (info) => progress.start(info),
      onBatch: (p) => progress.batch(p),
      onEpoch: (m) => progress.epoch(m),
    },
    io.signal,
    prepared,
  );
  progress.line(`${config.cell}: ${summary.stopReason}, best epoch ${summary.bestEpoch}, saved to ${summary.modelDir}`);
  return summary;
}

function printSummaries(io: CommandIO, runs: TrainSummary[], baselines: Baselines): void {
  const value = (x: number | null, digits: number) => (x === null ? '–' : x.toFixed(digits));
  io.stdout.write(
    '\n' +
      formatTable(
        ['cell', 'params', 'epochs', 'time', 'tokens/s', 'best val loss', 'val accuracy', 'val perplexity', 'nats/char', 'beats KN3', 'suggest nats/char', 'keys saved'],
        runs.map((r) => [
          r.cell,
          r.params.toLocaleString('en'),
          `${r.bestEpoch}/${r.epochs}`,
          duration(r.seconds),
          Math.round(r.tokensPerSecond).toLocaleString('en'),
          value(r.valLoss, 3),
          r.valAccuracy === null ? '–' : percent(r.valAccuracy),
          value(r.valPerplexity, 1),
          natsPerChar(r.natsPerChar),
          r.valPerplexity === null ? '–' : r.valPerplexity < baselines.kn3 ? 'yes' : 'no',
          // An older summary (or a run without validation text) has no suggestion model.
          natsPerChar(r.suggestion?.natsPerChar ?? null),
          r.suggestion ? percent(r.suggestion.keystrokeSavings) : '–',
        ]),
      ) +
      `\nBaselines on the same split: KN3 perplexity ${baselines.kn3.toFixed(1)} (${natsPerChar(baselines.kn3NatsPerChar)} nats/char), ` +
      `unigram ${baselines.unigram.toFixed(1)}, uniform ${baselines.uniform}. ` +
      `Unknown words: ${percent(baselines.unknownShare)} of the targets.\n` +
      `A network that does not beat KN3, a Kneser-Ney trigram of word counts, has learned no more than counting. Backend: ${runs[0]?.backend}.\n` +
      suggestersLine(runs),
  );
}

/**
 * What each cell costs: its parameters by part, and its recurrent parameters and training
 * time per token against the SimpleRNN's. The weights stand 1 : 3 : 4 by construction;
 * the time shows how much of that a step actually pays (the output layer, the same for
 * all three, takes its share).
 */
function printCosts(io: CommandIO, runs: TrainSummary[], base: TrainConfig): void {
  if (runs.length < 2) return;
  const { reference, cells } = comparisonCosts(runs.map((r) => ({ ...base, cell: r.cell, vocabSize: r.vocabSize, tokensPerSecond: r.tokensPerSecond })));
  const ratio = (value: number | null) => (value === null ? '–' : value.toFixed(1));
  io.stdout.write(
    `\nWhat each cell costs (a recurrent layer has ${Object.entries(GATE_BLOCKS).map(([cell, g]) => `${cell} ${g}`).join(', ')} gate block(s) of weights):\n` +
      formatTable(
        ['cell', 'embedding', 'recurrent', 'output', `recurrent ÷ ${reference}`, `time per token ÷ ${reference}`],
        cells.map((c) => [
          c.cell,
          c.parts.embedding.toLocaleString('en'),
          c.parts.recurrent.toLocaleString('en'),
          c.parts.output.toLocaleString('en'),
          ratio(c.recurrentRatio),
          ratio(c.timeRatio),
        ]),
      ) +
      '\n',
  );
}

/** What each run's suggestions mix (fitted on the validation text); the table's last two columns score that mixture. */
function suggestersLine(runs: TrainSummary[]): string {
  const parts = runs.flatMap(({ cell, suggestion: s }) => (s ? [`${cell} ${mixtureShares(s)}, shown at ${percent(s.minConfidence)} confidence`] : []));
  if (parts.length === 0) return 'Suggestions: the network alone (no validation text to fit a suggestion model on).\n';
  return `Suggestions mix: ${parts.join('; ')}.\n`;
}

function natsPerChar(value: number | null): string {
  return value === null ? '–' : value.toFixed(3);
}

async function printSamples(io: CommandIO, runs: TrainSummary[], prompt: string): Promise<void> {
  io.stdout.write(`\nSample continuations of "${prompt}" (${describeSampling(SAMPLE, SAMPLE.seed)}):\n`);
  for (const summary of runs) {
    const run = await loadRun(summary.modelDir);
    const predictor = new Predictor(run.model, run.tokenizer);
    const continuation = predictor.generate(prompt, SAMPLE).text;
    io.stdout.write(`  ${summary.cell.padEnd(5)} ${oneLine(prompt + continuation)}\n`);
    predictor.dispose();
    run.model.dispose();
  }
}

async function readInputs(paths: string[]): Promise<{ text: string; name: string; sources: string[] }> {
  if (paths.length === 0) throw new UserError('Name at least one text file to read.');
  const { text, sources } = await readCorpus(paths);
  const name = paths.length === 1 ? nodePath.basename(paths[0]) : `${nodePath.basename(paths[0])} and ${paths.length - 1} more`;
  return { text, name, sources: sources.map((s) => s.path) };
}

/** The run's own validation text, from its training files if they are still as they were. */
/** The run's validation text, for commands that measure on it unless given a file. */
export function heldOutText(run: LoadedRun): Promise<string> {
  return validationText(run.record, 'name a file to evaluate on');
}

async function loadRunOnBackend(dir: string, args: ParsedArgs) {
  await initBackend(resolveTrainConfig(args.train, flagOf).backend);
  return loadRun(dir);
}

function outDir(args: ParsedArgs): string {
  return typeof args.flags.out === 'string' ? args.flags.out : 'runs';
}

function requireString(value: unknown, message: string): string {
  if (typeof value !== 'string' || value === '') throw new UserError(message);
  return value;
}

/** What suggests, in one sentence: the mixture's shares, its threshold and how it does at word starts. */
function suggestionLine(suggestion: SuggestionReport | null): string {
  if (!suggestion) return 'Suggestions come from the network alone (this run has no suggestion.json).\n';
  const { weights } = suggestion;
  return (
    `Suggestions mix the network ${percent(weights.network)}, KN3 ${percent(weights.kn3)}, a cache of the document ${percent(weights.cache)} ` +
    `and a neural cache of it ${percent(weights.neuralCache ?? 0)}, ` +
    (suggestion.adaptation
      ? `the network learning from the document as it reads (a step every ${suggestion.adaptation.segmentTokens} tokens), `
      : '') +
    `give the document's own new words ${percent(suggestion.newWordShare)} of an unknown word's chance, ` +
    `shown at ${percent(suggestion.minConfidence)} confidence or more` +
    (suggestion.minNextWordConfidence === undefined ? '' : ` (${percent(suggestion.minNextWordConfidence)} for a next word)`) +
    `: offered at ${percent(suggestion.wordStartOffered)} of ${suggestion.wordStarts === undefined ? '' : `${suggestion.wordStarts.toLocaleString('en')} `}word starts, ` +
    `first word right ${percent(suggestion.wordStartFirstWordRight)} of those times.\n`
  );
}
