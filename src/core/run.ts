/**
 * One training run from text to a run folder: tokenize, split, build, train, save. This is
 * the one place that ties the engine's parts together; the CLI and the language server's
 * workers both call `trainRun`.
 */
import * as nodePath from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { chooseTrainingBackend } from './backendChoice';
import { coresForThisProcess } from './cores';
import { CountingBaselines } from './baselines';
import { encodeCheckpoint, type TrainingCheckpoint } from './checkpoint';
import { countedStream, splitStream, splitText, type Split } from './dataset';
import { UserError } from './errors';
import { readCorpus, textHash } from './input';
import { buildModel, countParams, startAtUnigram } from './model';
import { describeHeldOut, natsPerCharacter, targetCount, type HeldOutText } from './perCharacter';
import { DEFAULT_SUGGEST_OPTIONS } from './predictor';
import { SpellingModel } from './spelling';
import { NGRAMS_FILE, readCheckpoint, readRunRecord, RunWriter, SPELLING_FILE, SUGGESTION_FILE, type RunRecord } from './store';
import { fitSuggestionModel, suggestionReport } from './suggestionModel';
import { TUNING_CHARACTERS } from './typing';
import { NEWLINE_TOKEN, Tokenizer } from './tokenizer';
import { trainModel, type TrainCallbacks } from './train';
import { SEQLAB_VERSION } from './version';
import type { Baselines, BackendName, CellType, SuggestionReport, TrainConfig, TrainSummary } from '../protocol/types';

export interface RunRequest {
  text: string;
  /** Where the text came from (file paths or a document name), for the record. */
  sources: string[];
  /** Names the text in messages, e.g. "moby.txt". */
  name: string;
  config: TrainConfig;
  /** The folder runs go in. */
  runsDir: string;
  /** Name of the new run folder; a counter is added if it is taken. */
  runName: string;
  /**
   * An empty folder already claimed for this run, used instead of a new one under
   * `runsDir`: the language server claims a run's folder when it queues the run, so the
   * run id is known before training starts.
   */
  dir?: string;
  /**
   * When the run was asked for (ISO time), if not now: the engine queues runs, and a run's
   * time names it ("GRU 19:41"), so it must not change when its worker starts.
   */
  createdAt?: string;
}

/** What a run knows once its data is prepared, before the first batch. */
export interface RunStart {
  dir: string;
  backend: BackendName;
  /** Why this backend: as set, the only one that loads, or measured faster. */
  backendReason: string;
  vocabSize: number;
  params: number;
  seqLen: number;
  trainTokens: number;
  validationTokens: number;
  baselines: Baselines;
}

export interface RunCallbacks extends TrainCallbacks {
  onStart?(start: RunStart): void;
  /** The model being trained and its tokenizer, e.g. to sample from between epochs. trainRun owns the model. */
  onModel?(model: tf.LayersModel, tokenizer: Tokenizer): void;
}

/** Prepared data of a run: shared when several cells train on the same text. */
export interface PreparedText {
  tokenizer: Tokenizer;
  split: Split;
  ngrams: CountingBaselines;
  spelling: SpellingModel;
  /** The text the baselines (and the network's validation figures) are scored on. */
  heldOut: HeldOutText;
  /** The start of the validation text as SeqLab spaces it, for choosing the suggestion threshold; empty without a validation part. */
  validationTyped: string;
  baselines: Baselines;
}

/**
 * Splits the text, fits the tokenizer, the counting baselines and the spelling model on the
 * training part (held-out words are new words, as they would be in real use) and encodes
 * both parts. Throws a UserError when the text is too short.
 */
export function prepareText(text: string, config: TrainConfig, name: string): PreparedText {
  const { trainText, validationText } = splitText(text, config.valSplit);
  const tokenizer = Tokenizer.fit(trainText, config);
  const trainTokens = tokenizer.tokenize(trainText);
  const validationTokens = tokenizer.tokenize(validationText);
  const split: Split = {
    ...splitStream(tokenizer.encodeTokens(trainTokens), tokenizer.encodeTokens(validationTokens), config.seqLen, config.valSplit, name),
    words: tokenizer.vocab,
  };
  // Fitted on the stream as training reads it, rare words and all: KN3 learns how often new words come as the network does.
  const ngrams = CountingBaselines.fit(countedStream(split.train, config.rareAsUnknown ?? 0, config.seed), tokenizer.vocabSize);
  const spelling = SpellingModel.fit(trainTokens);
  // Without a validation part the baselines, like the network's figures, are in-sample.
  const heldOut =
    split.validation.length >= 2
      ? describeHeldOut(validationText, validationTokens, split.validation, tokenizer.unknownId, spelling)
      : describeHeldOut(trainText, trainTokens, split.train, tokenizer.unknownId, spelling);
  // A threshold tuned on text the model trained on would be tuned to its memory: no validation, no tuning.
  const validationTyped = split.validation.length >= 2 ? tokenizer.detokenize(validationTokens.slice(0, TUNING_CHARACTERS)) : '';
  return { tokenizer, split, ngrams, spelling, heldOut, validationTyped, baselines: ngrams.score(heldOut) };
}

/** Words in a sample prompt: enough context to steer every model the same way. */
const PROMPT_WORDS = 6;

/**
 * The first words of the held-out text (a prompt the models have not trained on) without
 * unknown words or line breaks: the prompt of the sample continuations shown after training.
 */
export function samplePrompt(prepared: PreparedText): string {
  const { tokenizer, split } = prepared;
  const source = split.validation.length > PROMPT_WORDS ? split.validation : split.train;
  const unusable = (id: number) => id === tokenizer.unknownId || tokenizer.vocab[id] === NEWLINE_TOKEN;
  for (let start = 0; start + PROMPT_WORDS <= source.length; start++) {
    const window = source.subarray(start, start + PROMPT_WORDS);
    if (!window.some(unusable)) return tokenizer.decode(window);
  }
  return tokenizer.decode(source.subarray(0, PROMPT_WORDS).filter((id) => !unusable(id)));
}

/** A run folder's name, `<text name>-<cell>-<yyyymmdd-hhmmss>`: sorts by time and says what it is. */
export function runFolderName(name: string, cell: CellType, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const slug = name.replace(/\.[^.]*$/, '').replace(/[^\p{L}\p{N}_-]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'text';
  return `${slug}-${cell}-${stamp}`;
}

/** Beside the run folders: what `auto` measured, per model shape (backendChoice.ts). */
const BACKEND_CHOICE_FILE = '.backend-choice.json';

/** Trains one model and saves it as a run folder; returns the summary of `seqlab train`. */
export async function trainRun(
  request: RunRequest,
  callbacks: RunCallbacks = {},
  signal?: AbortSignal,
  prepared: PreparedText = prepareText(request.text, request.config, request.name),
): Promise<TrainSummary> {
  const { config } = request;
  const { tokenizer, split } = prepared;
  const choice = await chooseBackend(config, prepared, request.dir ? nodePath.dirname(request.dir) : request.runsDir);
  const model = buildModel({ ...config, vocabSize: tokenizer.vocabSize }, config.seed);
  // At the frequencies training reads: with rare words read as <unk>, <unk> is frequent too.
  startAtUnigram(model, countedStream(split.train, config.rareAsUnknown ?? 0, config.seed));
  const writer = request.dir ? await RunWriter.create(request.dir) : await RunWriter.createNew(request.runsDir, request.runName);
  const record: RunRecord = {
    format: 'seqlab-run',
    version: 1,
    id: nodePath.basename(writer.dir),
    status: 'training',
    config,
    corpus: { sha256: textHash(request.text), tokens: split.train.length + split.validation.length, sources: request.sources },
    backend: choice.backend,
    backendReason: choice.reason,
    threads: choice.threads,
    versions: { seqlab: SEQLAB_VERSION, tfjs: tf.version.tfjs },
    vocabSize: tokenizer.vocabSize,
    params: countParams(model),
    createdAt: request.createdAt ?? new Date().toISOString(),
  };
  const writeTextFiles = async () => {
    await writer.writeTokenizer(tokenizer.toJSON());
    await writeCounts(writer, prepared);
  };
  return runTraining({ writer, record, prepared, model, callbacks, signal, beforeStart: writeTextFiles });
}

/** The counting models of the text (its baselines, and what scores unknown words' spelling). */
function writeCounts(writer: RunWriter, { ngrams, spelling }: PreparedText): Promise<void> {
  return writer.writeJson(NGRAMS_FILE, ngrams.toJSON()).then(() => writer.writeJson(SPELLING_FILE, spelling.toJSON()));
}

/**
 * Gives a model trained elsewhere on this text (a Keras experiment of a run, kerasImport.ts)
 * what a run trained here has from its text: the word counts, so `eval` can score it
 * against KN3, and the suggestion model fitted on the validation part.
 */
export async function addTextModels(dir: string, model: tf.LayersModel, prepared: PreparedText, config: TrainConfig): Promise<void> {
  const writer = await RunWriter.open(dir);
  await writeCounts(writer, prepared);
  await fitSuggestion(model, prepared, config, writer);
}

/**
 * Goes on training a stopped or interrupted run from the checkpoint of its last completed
 * epoch, on the same text (checked by its hash), to the epochs it was set to: the same
 * result as if it had never stopped. Its curves go on from there.
 */
export async function resumeRun(dir: string, text: string, callbacks: RunCallbacks = {}, signal?: AbortSignal, prepared?: PreparedText): Promise<TrainSummary> {
  const record = await readRunRecord(dir);
  if (record.status === 'done') throw new UserError(`The run in "${dir}" finished, so there is nothing to resume.`);
  if (record.status === 'training') throw new UserError(`The run in "${dir}" is training now.`);
  const checkpoint = await readCheckpoint(dir);
  if (!checkpoint) {
    throw new UserError(`The run in "${dir}" has no checkpoint to resume from: it ended before its first epoch did, or an older SeqLab trained it.`);
  }
  if (textHash(text) !== record.corpus.sha256) {
    throw new UserError(`That is not the text the run in "${dir}" trained on (it has changed since), so the run cannot go on with it.`);
  }
  prepared ??= prepareText(text, record.config, record.corpus.sources[0] ? nodePath.basename(record.corpus.sources[0]) : record.id);
  const choice = await chooseBackend(record.config, prepared, nodePath.dirname(nodePath.resolve(dir)));
  const model = buildModel({ ...record.config, vocabSize: prepared.tokenizer.vocabSize }, record.config.seed);
  const writer = await RunWriter.open(dir);
  // The epoch it was interrupted in starts again from the checkpoint before it.
  await writer.rewriteMetrics(checkpoint.history);
  const { interruption: _interruption, error: _error, finishedAt: _finishedAt, summary: _summary, ...kept } = record;
  const resumed: RunRecord = { ...kept, status: 'training', backend: choice.backend, backendReason: choice.reason, threads: choice.threads };
  return runTraining({ writer, record: resumed, prepared, model, callbacks, signal, checkpoint });
}

/**
 * The text a run trained on, read again from its files and checked against its hash;
 * otherwise one sentence ending in `remedy` (what the person can do instead).
 */
export async function readTrainingText(record: RunRecord, remedy: string): Promise<string> {
  const { sources, sha256 } = record.corpus;
  if (sources.length === 0) throw new UserError(`This run was trained on text that is not in a file (a selection or an unsaved document); ${remedy}.`);
  let text: string;
  try {
    text = (await readCorpus(sources)).text;
  } catch {
    throw new UserError(`The training text of this run (${sources.join(', ')}) can no longer be read; ${remedy}.`);
  }
  if (textHash(text) !== sha256) throw new UserError(`The training text of this run (${sources.join(', ')}) has changed since training; ${remedy}.`);
  return text;
}

/**
 * The held-out part of the text a run trained on (the last `valSplit` of it), read again
 * from its files; otherwise one sentence ending in `remedy`.
 */
export async function validationText(record: RunRecord, remedy: string): Promise<string> {
  if (record.config.valSplit === 0) throw new UserError(`This run held out no validation text; ${remedy}.`);
  return splitText(await readTrainingText(record, remedy), record.config.valSplit).validationText;
}

/**
 * Picks the backend and threads for a run's model (measured under `auto` and threads 0,
 * remembered beside the runs), on the cores this process may use.
 */
function chooseBackend(config: TrainConfig, prepared: PreparedText, runsDir: string) {
  return chooseTrainingBackend(
    config.backend,
    { ...config, vocabSize: prepared.tokenizer.vocabSize, seqLen: prepared.split.seqLen },
    nodePath.join(runsDir, BACKEND_CHOICE_FILE),
    config.threads ?? 0, // runs recorded before the setting existed
    coresForThisProcess(),
  );
}

interface RunTraining {
  writer: RunWriter;
  record: RunRecord;
  prepared: PreparedText;
  /** Owned: disposed at the end. */
  model: tf.LayersModel;
  callbacks: RunCallbacks;
  signal?: AbortSignal;
  /** Writes what a new run's folder holds besides the record (tokenizer, counts). */
  beforeStart?: () => Promise<void>;
  /** Where a resumed run goes on from. */
  checkpoint?: TrainingCheckpoint;
}

/** Trains a run's model, saving as it goes, then fits its suggestions and writes its summary. */
async function runTraining({ writer, record, prepared, model, callbacks, signal, beforeStart, checkpoint }: RunTraining): Promise<TrainSummary> {
  const { config } = record;
  const { tokenizer, split, heldOut, baselines } = prepared;
  try {
    await beforeStart?.();
    await writer.writeRecord(record);
    callbacks.onStart?.({
      dir: writer.dir,
      backend: record.backend,
      backendReason: record.backendReason ?? 'as recorded',
      vocabSize: tokenizer.vocabSize,
      params: record.params,
      seqLen: split.seqLen,
      trainTokens: split.train.length,
      validationTokens: split.validation.length,
      baselines,
    });
    callbacks.onModel?.(model, tokenizer);
    const result = await trainModel(
      model,
      split,
      { ...config, threads: record.threads ?? 1 },
      {
        onBatch: callbacks.onBatch,
        onEpoch: async (metrics) => {
          await writer.appendMetrics(metrics);
          // Saving each new best epoch means a crash still leaves the best model so far.
          if (metrics.best) await writer.saveModel(model);
          await callbacks.onEpoch?.(metrics);
        },
        // And the state after each epoch, so a run that stops can go on from there.
        onCheckpoint: (state) => writer.writeCheckpoint(encodeCheckpoint(state)),
      },
      signal,
      checkpoint,
    );
    // The model now holds the best epoch's weights; this save is usually a repeat but
    // makes the folder right even if the last best-epoch save was interrupted.
    await writer.saveModel(model);
    const suggestion = await fitSuggestion(model, prepared, config, writer);
    const last = result.history[result.history.length - 1];
    const summary: TrainSummary = {
      cell: config.cell,
      params: record.params,
      vocabSize: tokenizer.vocabSize,
      epochs: result.history.length,
      bestEpoch: result.best.epoch,
      stopReason: result.stopReason,
      trainLoss: last.loss,
      trainAccuracy: last.accuracy,
      valLoss: result.best.valLoss,
      valAccuracy: result.best.valAccuracy,
      valPerplexity: result.best.valPerplexity,
      natsPerChar: result.best.valLoss === null ? null : natsPerCharacter(result.best.valLoss * targetCount(heldOut), heldOut),
      tokensPerSecond: result.tokensPerSecond,
      seconds: result.seconds,
      backend: record.backend,
      backendReason: record.backendReason ?? 'as recorded',
      modelDir: writer.dir,
      suggestion,
      baselines,
    };
    const status = result.stopReason === 'cancelled' ? 'stopped' : 'done';
    // A run that completed cannot go on; one that was stopped keeps its checkpoint to resume.
    if (status === 'done') await writer.removeCheckpoint();
    await writer.writeRecord({ ...record, status, finishedAt: new Date().toISOString(), bestEpoch: result.best.epoch, summary });
    return summary;
  } catch (error) {
    await writer
      .writeRecord({ ...record, status: 'failed', finishedAt: new Date().toISOString(), error: (error as Error).message })
      .catch(() => undefined);
    throw error;
  } finally {
    model.dispose();
  }
}

/**
 * Fits what the run suggests with (src/core/suggestionModel.ts) on its validation part and
 * saves it as suggestion.json. Null when there is no validation part to fit on, or no
 * trigram counts to mix in: the network then suggests alone at the default threshold.
 */
async function fitSuggestion(model: tf.LayersModel, prepared: PreparedText, config: TrainConfig, writer: RunWriter): Promise<SuggestionReport | null> {
  const { tokenizer, split, ngrams, heldOut, validationTyped } = prepared;
  const kn3 = ngrams.kn3;
  if (!kn3 || validationTyped === '') return null;
  const fit = fitSuggestionModel(model, tokenizer, kn3, { text: heldOut, typed: validationTyped, seqLen: split.seqLen, batch: config.batch }, DEFAULT_SUGGEST_OPTIONS.maxWords);
  await writer.writeJson(SUGGESTION_FILE, fit.settings);
  return suggestionReport(fit.settings, fit, fit.typing, heldOut);
}
