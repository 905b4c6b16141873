/**
 * The run folder (DESIGN.md §4): `model.json` + weights in the TF.js Layers format,
 * `tokenizer.json`, `config.json` (the run record) and `metrics.jsonl`.
 *
 * Crash safety: every file is written to a temp file in the same folder, synced, then
 * renamed over its target, so a reader sees the old file or the new one, never half of
 * one. The model is two files, so `model.json` is the commit point: the weights go to a
 * fresh `weights-<n>.bin` first, then `model.json` is replaced to point at them, and
 * only then are older weights deleted. `config.json` carries a status, so a folder left
 * by a crashed process says 'training', never 'done'.
 */
import { NEURAL_CACHE_CANDIDATES } from './neuralCache';
import { DEFAULT_NEW_WORD_SHARE } from './newWordSpelling';
import { parseSuggestionSettings, type RunSuggestionModel, type SuggestionSettingsJSON } from './suggestionModel';
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CountingBaselines } from './baselines';
import { UserError } from './errors';
import { SpellingModel } from './spelling';
import { decodeCheckpoint, type TrainingCheckpoint } from './checkpoint';
import { Tokenizer } from './tokenizer';
import type { BackendName, EpochMetrics, TrainConfig, TrainSummary } from '../protocol/types';

/** The files of a run folder. */
export const RUN_FILES = {
  record: 'config.json',
  tokenizer: 'tokenizer.json',
  model: 'model.json',
  metrics: 'metrics.jsonl',
  /** The state to resume from (checkpoint.ts), after each epoch of a run that may go on. */
  checkpoint: 'checkpoint.bin',
} as const;

/** The counting baselines' table, written by the trainer with `writeJson`. */
export const NGRAMS_FILE = 'ngrams.json';
/** The spelling model of unknown words (nats per character), written by the trainer with `writeJson`. */
export const SPELLING_FILE = 'spelling.json';
export const SUGGESTION_FILE = 'suggestion.json';

const RUN_FORMAT = 'seqlab-run';
const RUN_VERSION = 1;
const WEIGHTS_FILE = /^weights-(\d+)\.bin$/;

export const RUN_STATUSES = ['training', 'done', 'stopped', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** config.json. */
export interface RunRecord {
  format: typeof RUN_FORMAT;
  version: typeof RUN_VERSION;
  /** The folder name; when read back, the actual folder name wins (folders get renamed). */
  id: string;
  status: RunStatus;
  config: TrainConfig;
  corpus: { sha256: string; tokens: number; sources: string[] };
  backend: BackendName;
  /** Why that backend (backendChoice.ts); absent in runs from before it was recorded. */
  backendReason?: string;
  /** Threads that trained it together (data-parallel on wasm and cpu); absent: one. */
  threads?: number;
  versions: { seqlab: string; tfjs: string };
  vocabSize: number;
  params: number;
  createdAt: string;
  finishedAt?: string;
  bestEpoch?: number;
  summary?: TrainSummary;
  /** Why a 'failed' run failed. */
  error?: string;
  /** Set when the run's engine stopped while it trained: what happened, one sentence for a person. */
  interruption?: string;
  /** The run whose experiment this one repeated elsewhere (a Keras experiment, kerasScript.ts). */
  reproduces?: string;
}

/**
 * Writes one run folder. The trainer writes the record with status 'training' first and
 * rewrites it with 'done', 'stopped' or 'failed' at the end.
 */
export class RunWriter {
  /** Model saves run one after another, so two never race over which weights file is current. */
  private saving: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string) {}

  /** Creates the folder (and its parents); refuses a folder that already holds a run. */
  static async create(dir: string): Promise<RunWriter> {
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST' || code === 'ENOTDIR') {
        throw new UserError(`"${dir}" exists and is not a folder, so a run cannot be saved there.`, { cause: error });
      }
      throw new UserError(`The run folder "${dir}" could not be created (${code}).`, { cause: error });
    }
    if (await exists(nodePath.join(dir, RUN_FILES.record))) {
      throw new UserError(`"${dir}" already holds a SeqLab run; choose another folder.`);
    }
    return new RunWriter(dir);
  }

  /**
   * Creates a new run folder `name` under `parent`, or `name-2`, `name-3`, ... when taken.
   * Creating the folder itself is the claim, so runs started at the same moment never share one.
   */
  static async createNew(parent: string, name: string): Promise<RunWriter> {
    await fs.mkdir(parent, { recursive: true }).catch((error) => {
      throw new UserError(`The folder for runs "${parent}" could not be created (${errorCode(error)}).`, { cause: error });
    });
    for (let n = 1; ; n++) {
      const dir = nodePath.join(parent, n === 1 ? name : `${name}-${n}`);
      try {
        await fs.mkdir(dir);
        return new RunWriter(dir);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') {
          throw new UserError(`The run folder "${dir}" could not be created (${errorCode(error)}).`, { cause: error });
        }
      }
    }
  }

  /**
   * Opens an existing run folder to rewrite its record or add files, e.g. when the
   * process that trained it died and another records that. The caller must be its only writer.
   */
  static async open(dir: string): Promise<RunWriter> {
    await requireFolder(dir);
    return new RunWriter(dir);
  }

  writeRecord(record: RunRecord): Promise<void> {
    return writeFileAtomic(this.dir, RUN_FILES.record, JSON.stringify(record, null, 2) + '\n');
  }

  writeTokenizer(json: object): Promise<void> {
    return writeFileAtomic(this.dir, RUN_FILES.tokenizer, JSON.stringify(json));
  }

  /** Another JSON file of the run (e.g. ngrams.json), written atomically like the rest. */
  writeJson(name: string, json: unknown): Promise<void> {
    const reserved = (Object.values(RUN_FILES) as string[]).includes(name) || WEIGHTS_FILE.test(name);
    if (nodePath.basename(name) !== name || name.startsWith('.') || reserved) {
      // A programming error, not a person's: the core files have their own typed writers.
      throw new Error(`writeJson cannot write "${name}" in a run folder.`);
    }
    return writeFileAtomic(this.dir, name, JSON.stringify(json));
  }

  /** Saves exactly what `model.save` produces, atomically (see the file comment). */
  async saveModel(model: tf.LayersModel): Promise<void> {
    const save = this.saving.then(() => model.save(tf.io.withSaveHandler((artifacts) => this.writeModel(artifacts))));
    this.saving = save.catch(() => undefined);
    await save;
  }

  writeCheckpoint(bytes: Uint8Array): Promise<void> {
    return writeFileAtomic(this.dir, RUN_FILES.checkpoint, bytes);
  }

  /** A run that completed cannot go on: its checkpoint only takes room. */
  async removeCheckpoint(): Promise<void> {
    await fs.rm(nodePath.join(this.dir, RUN_FILES.checkpoint), { force: true });
  }

  /** Replaces the metrics with `history` (a resumed run drops the epoch it was interrupted in). */
  rewriteMetrics(history: EpochMetrics[]): Promise<void> {
    return writeFileAtomic(this.dir, RUN_FILES.metrics, history.map((m) => JSON.stringify(m) + '\n').join(''));
  }

  /** Appends one line; a crash mid-write leaves at most a truncated last line, which loadRun skips. */
  async appendMetrics(metrics: EpochMetrics): Promise<void> {
    const path = nodePath.join(this.dir, RUN_FILES.metrics);
    try {
      const handle = await fs.open(path, 'a');
      try {
        await handle.appendFile(JSON.stringify(metrics) + '\n');
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw writeError(this.dir, RUN_FILES.metrics, error);
    }
  }

  private async writeModel(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error('RunWriter saves layers models only, not graph models.');
    }
    // A name no file has, so the weights model.json points at now are never overwritten.
    const weightsFile = `weights-${nextWeightsNumber(await fs.readdir(this.dir))}.bin`;
    const weights = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
    await writeFileAtomic(this.dir, weightsFile, new Uint8Array(weights));
    await writeFileAtomic(this.dir, RUN_FILES.model, JSON.stringify(modelJsonFor(artifacts, weightsFile)));
    await removeStaleWeights(this.dir, weightsFile);
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }
}

export interface LoadedRun {
  dir: string;
  record: RunRecord;
  /** 'done' or 'stopped': the run finished. A 'training' or 'failed' run loads too when it saved a model. */
  complete: boolean;
  tokenizer: Tokenizer;
  model: tf.LayersModel;
  metrics: EpochMetrics[];
  /** What suggests besides the network; undefined for a run saved before suggestion.json (the network suggests alone). */
  suggestion?: RunSuggestionModel;
}

/**
 * Validates and loads a run folder. Every problem (missing folder or file, damaged JSON,
 * missing or wrongly sized weights, a model and tokenizer from different runs) is a
 * UserError that says what is wrong. A run interrupted after it saved a model still loads.
 */
export async function loadRun(dir: string): Promise<LoadedRun> {
  await requireFolder(dir);
  const record = await readRecord(dir);
  if (!(await exists(nodePath.join(dir, RUN_FILES.model)))) throw noModelError(dir, record);
  const tokenizer = await readTokenizer(dir);
  const metrics = await readMetrics(dir);
  const model = await loadModel(dir);
  let suggestion: RunSuggestionModel | undefined;
  try {
    checkVocabulary(model, tokenizer, dir);
    suggestion = await loadSuggestion(dir);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const complete = record.status === 'done' || record.status === 'stopped';
  return { dir, record, complete, tokenizer, model, metrics, suggestion };
}

/**
 * The checks of loadRun without building the model: the files a finished run needs are
 * there and whole (model.json, its weights at their size, tokenizer.json). Cheap enough
 * to run on every run when the engine starts, so a damaged folder is listed as such at
 * once rather than found on first use. Throws the UserError that says what is wrong.
 */
export async function checkRunFiles(dir: string): Promise<void> {
  await readTokenizer(dir);
  const json = await readJson(dir, RUN_FILES.model, () => new UserError(`The run folder "${dir}" has no ${RUN_FILES.model}, so it holds no model.`));
  await readWeights(dir, checkModelJson(json, dir).weightsManifest);
}

/** The suggestion settings fitted after training, with the trigram they mix in; undefined if the run has none. */
async function loadSuggestion(dir: string): Promise<RunSuggestionModel | undefined> {
  if (!(await exists(nodePath.join(dir, SUGGESTION_FILE)))) return undefined;
  const json = await readJson(dir, SUGGESTION_FILE, () => new UserError(`The run folder "${dir}" has no ${SUGGESTION_FILE}.`));
  let settings: SuggestionSettingsJSON;
  try {
    settings = parseSuggestionSettings(json);
  } catch (error) {
    throw invalidFileError(dir, SUGGESTION_FILE, error);
  }
  if (!(await exists(nodePath.join(dir, NGRAMS_FILE)))) {
    throw new UserError(`The run folder "${dir}" has a ${SUGGESTION_FILE} but no ${NGRAMS_FILE}, whose word counts its suggestions mix in.`);
  }
  const kn3 = (await loadNgrams(dir)).kn3;
  if (!kn3) throw new UserError(`The run folder "${dir}" has a ${SUGGESTION_FILE} but its ${NGRAMS_FILE} holds no trigram counts.`);
  return {
    kn3,
    weights: settings.weights,
    // Any settings will do where the neural cache has no weight (a run saved before it).
    neuralCache: settings.neuralCache ?? NEURAL_CACHE_CANDIDATES[0],
    newWordShare: settings.newWordShare ?? DEFAULT_NEW_WORD_SHARE,
    minConfidence: settings.minConfidence,
    minNextWordConfidence: settings.minNextWordConfidence ?? settings.minConfidence,
    ...(settings.adaptation && { adaptation: settings.adaptation }),
  };
}

/** The counting baselines saved with a run, for scoring new text against them. */
export async function loadNgrams(dir: string): Promise<CountingBaselines> {
  const json = await readJson(
    dir,
    NGRAMS_FILE,
    () => new UserError(`The run folder "${dir}" has no ${NGRAMS_FILE}, so its counting baselines are unknown.`),
  );
  try {
    return CountingBaselines.fromJSON(json);
  } catch (error) {
    throw invalidFileError(dir, NGRAMS_FILE, error);
  }
}

/**
 * The spelling model saved with a run; undefined for a run saved before there was one,
 * which then evaluates without nats per character rather than with a spelling of nothing.
 */
export async function loadSpelling(dir: string): Promise<SpellingModel | undefined> {
  if (!(await exists(nodePath.join(dir, SPELLING_FILE)))) return undefined;
  const json = await readJson(dir, SPELLING_FILE, () => new UserError(`The run folder "${dir}" has no ${SPELLING_FILE}.`));
  try {
    return SpellingModel.fromJSON(json);
  } catch (error) {
    throw invalidFileError(dir, SPELLING_FILE, error);
  }
}

/**
 * An IOHandler that reads a run folder's model.json and weights from disk, so plain
 * `tf.loadLayersModel(fileHandler(dir))` works without tfjs-node. Throws UserError for a
 * missing or damaged model.json and for missing or wrongly sized weights files.
 */
export function fileHandler(dir: string): tf.io.IOHandler {
  return { load: () => readModelArtifacts(dir) };
}

/** config.json of one run folder, checked; a UserError says what is wrong with it. */
export const readRunRecord: (dir: string) => Promise<RunRecord> = readRecord;

/** The run's checkpoint, or undefined when it has none (it never finished an epoch, or it completed). */
export async function readCheckpoint(dir: string): Promise<TrainingCheckpoint | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(nodePath.join(dir, RUN_FILES.checkpoint));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new UserError(`The checkpoint of the run in "${dir}" could not be read (${errorCode(error)}).`, { cause: error });
  }
  return decodeCheckpoint(bytes);
}

/** metrics.jsonl of one run folder (empty before the first epoch ends). */
export const readRunMetrics: (dir: string) => Promise<EpochMetrics[]> = readMetrics;

/** The runs under `root`, newest first; folders that are not readable runs are skipped. */
export async function listRuns(root: string): Promise<RunRecord[]> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return []; // no run saved yet
    throw new UserError(`The runs folder "${root}" could not be read (${errorCode(error)}).`, { cause: error });
  }
  const folders = entries.filter((entry) => entry.isDirectory() || entry.isSymbolicLink());
  const records = await Promise.all(folders.map((entry) => readRecordOrSkip(nodePath.join(root, entry.name))));
  return records
    .filter((record): record is RunRecord => record !== undefined)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
}

// ---------------------------------------------------------------------------------------
// Writing

/** Temp file in the same folder (rename is only atomic within one file system), synced, renamed. */
async function writeFileAtomic(dir: string, name: string, data: string | Uint8Array): Promise<void> {
  const temp = nodePath.join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync(); // the data must be on disk before the name points at it
    } finally {
      await handle.close();
    }
    await fs.rename(temp, nodePath.join(dir, name));
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw writeError(dir, name, error);
  }
  await syncFolder(dir);
}

/** Makes a rename durable. Not possible on every platform (Windows), where it is skipped. */
async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the rename itself is still atomic.
  }
}

function writeError(dir: string, name: string, error: unknown): UserError {
  return new UserError(`Could not write ${name} in "${dir}" (${errorCode(error)}).`, { cause: error });
}

/** The same model.json that TF.js's own file handlers write, pointing at one weights file. */
function modelJsonFor(artifacts: tf.io.ModelArtifacts, weightsFile: string): tf.io.ModelJSON {
  const json: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata != null) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.signature != null) json.signature = artifacts.signature;
  return json;
}

/** One more than the highest weights number present, so a new file never overwrites one in use. */
function nextWeightsNumber(names: string[]): number {
  let highest = 0;
  for (const name of names) {
    const match = WEIGHTS_FILE.exec(name);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return highest + 1;
}

/** After model.json points at `current`, the other weights files are garbage. */
async function removeStaleWeights(dir: string, current: string): Promise<void> {
  const stale = (await fs.readdir(dir)).filter((name) => WEIGHTS_FILE.test(name) && name !== current);
  await Promise.all(stale.map((name) => fs.rm(nodePath.join(dir, name), { force: true })));
}

// ---------------------------------------------------------------------------------------
// Reading

async function requireFolder(dir: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw new UserError(`There is no run folder at "${dir}".`, { cause: error });
    throw new UserError(`The run folder "${dir}" could not be read (${errorCode(error)}).`, { cause: error });
  }
  if (!stat.isDirectory()) throw new UserError(`"${dir}" is a file, not a run folder.`);
}

async function readRecordOrSkip(dir: string): Promise<RunRecord | undefined> {
  try {
    return await readRecord(dir);
  } catch (error) {
    if (error instanceof UserError) return undefined;
    throw error;
  }
}

async function readRecord(dir: string): Promise<RunRecord> {
  const json = await readJson(
    dir,
    RUN_FILES.record,
    () => new UserError(`"${dir}" is not a SeqLab run folder: it has no ${RUN_FILES.record}.`),
  );
  const record = checkRecord(json, dir);
  return { ...record, id: nodePath.basename(nodePath.resolve(dir)) };
}

/** Checks the fields other code relies on; a hand-edited or foreign config.json fails here. */
function checkRecord(json: unknown, dir: string): RunRecord {
  const notARun = (what: string) =>
    new UserError(`${RUN_FILES.record} in "${dir}" is not a SeqLab run record (${what}).`);
  if (!isObject(json) || json.format !== RUN_FORMAT) throw notARun(`its format is not "${RUN_FORMAT}"`);
  if (typeof json.version === 'number' && json.version > RUN_VERSION) {
    throw new UserError(`The run in "${dir}" was saved by a newer SeqLab (format version ${json.version}); update SeqLab to open it.`);
  }
  if (json.version !== RUN_VERSION) throw notARun('its version is missing or wrong');
  if (!RUN_STATUSES.includes(json.status as RunStatus)) throw notARun('its status is missing or unknown');
  for (const key of ['config', 'corpus', 'versions'] as const) {
    if (!isObject(json[key])) throw notARun(`"${key}" is missing`);
  }
  for (const key of ['vocabSize', 'params'] as const) {
    if (typeof json[key] !== 'number') throw notARun(`"${key}" is missing`);
  }
  for (const key of ['backend', 'createdAt'] as const) {
    if (typeof json[key] !== 'string') throw notARun(`"${key}" is missing`);
  }
  return json as unknown as RunRecord;
}

function noModelError(dir: string, record: RunRecord): UserError {
  switch (record.status) {
    case 'training':
      return new UserError(`The run in "${dir}" was interrupted before it saved a model.`);
    case 'failed':
      return new UserError(
        `The run in "${dir}" failed before it saved a model${record.error ? ` (${record.error.replace(/\.$/, '')})` : ''}.`,
      );
    default:
      return new UserError(`The run folder "${dir}" has no ${RUN_FILES.model}, so it holds no model.`);
  }
}

async function readTokenizer(dir: string): Promise<Tokenizer> {
  const json = await readJson(
    dir,
    RUN_FILES.tokenizer,
    () => new UserError(`The run folder "${dir}" has no ${RUN_FILES.tokenizer}, so its model cannot be used.`),
  );
  try {
    return Tokenizer.fromJSON(json);
  } catch (error) {
    throw invalidFileError(dir, RUN_FILES.tokenizer, error);
  }
}

/** One EpochMetrics a line. Only the last line may be damaged (a crash mid-append); it is skipped. */
async function readMetrics(dir: string): Promise<EpochMetrics[]> {
  let text: string;
  try {
    text = await fs.readFile(nodePath.join(dir, RUN_FILES.metrics), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return []; // stopped before the first epoch ended
    throw new UserError(`${RUN_FILES.metrics} in "${dir}" could not be read (${errorCode(error)}).`, { cause: error });
  }
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const metrics: EpochMetrics[] = [];
  lines.forEach((line, index) => {
    const parsed = parseMetricsLine(line);
    if (parsed) metrics.push(parsed);
    else if (index < lines.length - 1) {
      throw new UserError(`${RUN_FILES.metrics} in "${dir}" is damaged at line ${index + 1}.`);
    }
  });
  return metrics;
}

function parseMetricsLine(line: string): EpochMetrics | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return isObject(value) && typeof value.epoch === 'number' ? (value as unknown as EpochMetrics) : undefined;
  } catch {
    return undefined;
  }
}

async function loadModel(dir: string): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(fileHandler(dir));
  } catch (error) {
    if (error instanceof UserError) throw error;
    // TF.js found the topology or the weights unusable (e.g. weights that do not fit the layers).
    throw new UserError(`The model in "${dir}" could not be loaded: ${reasonOf(error)}.`, { cause: error });
  }
}

function checkVocabulary(model: tf.LayersModel, tokenizer: Tokenizer, dir: string): void {
  const outputs = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (outputs !== tokenizer.vocabSize) {
    throw new UserError(
      `The model in "${dir}" predicts ${outputs} tokens but its tokenizer has ${tokenizer.vocabSize}, so the two files come from different runs.`,
    );
  }
}

async function readModelArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const json = await readJson(
    dir,
    RUN_FILES.model,
    () => new UserError(`The run folder "${dir}" has no ${RUN_FILES.model}, so it holds no model.`),
  );
  const modelJson = checkModelJson(json, dir);
  return tf.io.getModelArtifactsForJSON(modelJson, (manifest) => readWeights(dir, manifest));
}

function checkModelJson(json: unknown, dir: string): tf.io.ModelJSON {
  const invalid = (what: string) =>
    new UserError(`${RUN_FILES.model} in "${dir}" is not a TensorFlow.js layers model (${what}).`);
  if (!isObject(json)) throw invalid('it is not a JSON object');
  if (json.format !== undefined && json.format !== 'layers-model') throw invalid(`its format is "${String(json.format)}"`);
  if (!isObject(json.modelTopology)) throw invalid('it has no modelTopology');
  const unknown = unknownLayerClass(json.modelTopology);
  if (unknown !== undefined) throw invalid(`it uses a layer TensorFlow.js does not know, "${unknown}"`);
  if (!Array.isArray(json.weightsManifest)) throw invalid('it has no weightsManifest');
  for (const group of json.weightsManifest) {
    if (!isObject(group) || !isStringArray(group.paths) || !Array.isArray(group.weights)) {
      throw invalid('its weightsManifest is malformed');
    }
    for (const entry of group.weights) {
      if (!isWeightEntry(entry)) throw invalid('a weight in its weightsManifest is malformed');
    }
  }
  return json as unknown as tf.io.ModelJSON;
}

/**
 * The first layer class in the topology that TF.js has not registered. Checked up front
 * because TF.js, failing halfway through building a model, leaks the variables of the
 * layers it already built.
 */
function unknownLayerClass(topology: Record<string, unknown>): string | undefined {
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  const visit = (node: unknown): string | undefined => {
    if (!isObject(node)) return undefined;
    if (typeof node.class_name === 'string' && !(node.class_name in known)) return node.class_name;
    const layers = isObject(node.config) ? node.config.layers : undefined;
    // Nested models list their own layers.
    return Array.isArray(layers) ? layers.map(visit).find((name) => name !== undefined) : undefined;
  };
  return visit(isObject(topology.model_config) ? topology.model_config : topology);
}

/** Reads each group's files and checks their total size against the manifest before TF.js decodes them. */
async function readWeights(
  dir: string,
  manifest: tf.io.WeightsManifestConfig,
): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer[]]> {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    const files = await Promise.all(group.paths.map((path) => readWeightsFile(dir, path)));
    const actual = files.reduce((sum, file) => sum + file.byteLength, 0);
    const expected = groupByteLength(group.weights);
    if (expected !== undefined && actual !== expected) {
      throw new UserError(
        `The weights in "${dir}" (${group.paths.join(', ')}) are ${actual} bytes but ${RUN_FILES.model} needs ${expected}, so the folder is damaged.`,
      );
    }
    specs.push(...group.weights);
    buffers.push(...files);
  }
  return [specs, buffers];
}

async function readWeightsFile(dir: string, path: string): Promise<ArrayBuffer> {
  const full = nodePath.resolve(dir, path);
  const inside = nodePath.relative(nodePath.resolve(dir), full);
  // model.json may come from anywhere; never let it point outside the run folder.
  if (inside === '' || inside.startsWith('..') || nodePath.isAbsolute(inside)) {
    throw new UserError(`${RUN_FILES.model} in "${dir}" names a weights file outside its folder ("${path}").`);
  }
  try {
    const bytes = await fs.readFile(full);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      throw new UserError(`The weights file "${path}" named in ${RUN_FILES.model} is missing from "${dir}".`, { cause: error });
    }
    throw new UserError(`The weights file "${path}" in "${dir}" could not be read (${errorCode(error)}).`, { cause: error });
  }
}

/** Bytes a group's weights occupy, from shapes and dtypes; undefined when it cannot be known (strings). */
function groupByteLength(weights: tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const weight of weights) {
    const dtype = weight.quantization?.dtype ?? weight.dtype;
    const size = BYTES_PER_ELEMENT[dtype];
    if (size === undefined) return undefined;
    total += weight.shape.reduce((product, dim) => product * dim, 1) * size;
  }
  return total;
}

/** Bytes per element of each fixed-size dtype, as TF.js lays weights out. */
const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  float16: 2,
  uint16: 2,
  uint8: 1,
};

function isWeightEntry(value: unknown): value is tf.io.WeightsManifestEntry {
  return (
    isObject(value) &&
    typeof value.name === 'string' &&
    typeof value.dtype === 'string' &&
    Array.isArray(value.shape) &&
    value.shape.every((dim) => Number.isInteger(dim) && dim >= 0)
  );
}

// ---------------------------------------------------------------------------------------
// Small helpers

/** Reads and parses a JSON file of the run folder; `missing` makes the error for an absent file. */
async function readJson(dir: string, name: string, missing: () => UserError): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(nodePath.join(dir, name), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw missing();
    throw new UserError(`${name} in "${dir}" could not be read (${errorCode(error)}).`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(`${name} in "${dir}" is not valid JSON, so the folder is damaged.`, { cause: error });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

/** A file whose own parser refused it; says which folder, and which file unless the reason does. */
function invalidFileError(dir: string, name: string, error: unknown): UserError {
  const reason = reasonOf(error);
  const message = reason.includes(name)
    ? `The run folder "${dir}" is damaged: ${reason}.`
    : `${name} in "${dir}" is invalid: ${reason}.`;
  return new UserError(message, { cause: error });
}

/** An inner error's message, without its full stop, to quote inside a sentence of ours. */
function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\.$/, '');
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
