/**
 * `auto` picks the training backend by measurement, not by a fixed order: native
 * TensorFlow is not faster for every model (small vocabularies are dominated by per-op
 * overhead, large ones by the output layer's matmuls, which it runs on every core), so a
 * few training steps of the actual model shape on each backend that loads decide. So does
 * the number of threads on wasm and cpu (threads 0): splitting a step between cores pays
 * off for big batches and vocabularies, not for small models. The result is cached per
 * shape and machine, and always comes with the reason.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, nativeKernels, nativeVersion, type BackendName, type BackendPreference } from './backend';
import { buildModel, type ModelShape } from './model';
import { Random } from './random';
import { ParallelTrainer } from './parallel/trainer';
import { sampledWords } from './fast/candidates';
import { makeTrainer, wordCounts } from './train';

export interface BackendChoice {
  backend: BackendName;
  /** Threads that train the run together (1 on native TensorFlow, which uses every core itself). */
  threads: number;
  /** One sentence for a person: why this backend, and this many threads. */
  reason: string;
}

/** Where the run may use more than one thread: the data-parallel trainer's backends. */
const THREADED_BACKENDS: BackendName[] = ['wasm', 'cpu'];

/** What a calibration measures on: the model and its batches. */
export interface CalibrationShape extends ModelShape {
  batch: number;
  seqLen: number;
  /** The run's sampled softmax: a backend is timed as the run would train on it. */
  softmaxSamples?: number;
}

/** The backends `auto` chooses between, fastest first when they tie. */
const CANDIDATES: BackendName[] = ['tensorflow', 'wasm'];
/** Steps timed per backend, after the warm-up ones that compile kernels and fill caches. */
const WARM_UP_STEPS = 2;
const TIMED_STEPS = 3;

/**
 * Starts the backend for training a model of `shape`, and says on how many threads: the
 * asked-for ones, or under `auto` (threads 0) the faster of those that load (of one thread
 * and `cores`), measured or remembered in `cacheFile`.
 */
export async function chooseTrainingBackend(
  preference: BackendPreference,
  shape: CalibrationShape,
  cacheFile?: string,
  threads = 1,
  cores = 1,
): Promise<BackendChoice> {
  const choice = await chooseBackend(preference, shape, cacheFile);
  if (!THREADED_BACKENDS.includes(choice.backend)) return { ...choice, threads: 1 };
  if (threads > 0) {
    const count = Math.min(threads, shape.batch);
    return { ...choice, threads: count, reason: count > 1 ? `${choice.reason}; ${count} threads (the threads setting)` : choice.reason };
  }
  const most = Math.min(cores, shape.batch);
  if (most < 2) return { ...choice, threads: 1 };
  const key = `${calibrationKey(shape)} ${choice.backend} threads 1 or ${most}`;
  const cache = readCache(cacheFile);
  const timings = cache[key] ?? (await measureThreads(shape, [1, most]));
  if (!cache[key] && cacheFile) writeCache(cacheFile, { ...cache, [key]: timings });
  const [one, many] = [timings[1]!, timings[most]!];
  const measured = `${many.toFixed(0)} ms against ${one.toFixed(0)} ms a batch, measured${cache[key] ? ' earlier' : ''}`;
  // Within a few percent the measurement cannot tell them apart; one thread then leaves the cores to the rest of the machine.
  return many < one * 0.95
    ? { ...choice, threads: most, reason: `${choice.reason}; ${most} threads, ${(one / many).toFixed(1)}× one on this model (${measured})` }
    : { ...choice, threads: 1, reason: `${choice.reason}; one thread, as ${most} were not faster on this model (${measured})` };
}

async function chooseBackend(preference: BackendPreference, shape: CalibrationShape, cacheFile?: string): Promise<Omit<BackendChoice, 'threads'>> {
  if (preference !== 'auto') return { backend: await initBackend(preference), reason: 'as set' };
  const available: BackendName[] = [];
  const missing: string[] = [];
  for (const name of CANDIDATES) {
    try {
      await initBackend(name);
      available.push(name);
    } catch (error) {
      missing.push((error as Error).message.replace(/\.$/, ''));
    }
  }
  if (available.length === 0) return { backend: await initBackend('auto'), reason: 'the only backend that loads' };
  if (available.length === 1) {
    await initBackend(available[0]);
    return { backend: available[0], reason: `the only fast backend that loads here (${missing.join('; ')})` };
  }
  const key = calibrationKey(shape);
  const cache = readCache(cacheFile);
  const { timings, failures } = cache[key] ? { timings: cache[key], failures: [] } : await measureBackends(available, shape);
  if (!cache[key] && cacheFile && failures.length === 0) writeCache(cacheFile, { ...cache, [key]: timings });
  const ranked = available.filter((name) => timings[name] !== undefined).sort((a, b) => timings[a]! - timings[b]!);
  const [fastest, next] = ranked;
  if (!fastest) throw new Error(`No backend could train this model: ${failures.join('; ')}.`);
  if (!next) {
    await initBackend(fastest);
    return { backend: fastest, reason: `the only fast backend that could train this model here (${failures.join('; ')})` };
  }
  await initBackend(fastest);
  const ms = (name: BackendName) => `${timings[name]!.toFixed(0)} ms`;
  const ratio = timings[next]! / timings[fastest]!;
  return {
    backend: fastest,
    reason: `${ratio.toFixed(1)}× faster than ${next} on this model (${ms(fastest)} against ${ms(next)} a batch, measured${cache[key] ? ' earlier' : ''} on this machine)`,
  };
}

/**
 * Milliseconds of wall time per training step on each backend, and why a backend that
 * loaded could not train (a native TensorFlow too old for an op of SeqLab's graphs): it is
 * left out rather than failing the run.
 */
async function measureBackends(backends: BackendName[], shape: CalibrationShape): Promise<{ timings: Record<string, number>; failures: string[] }> {
  const timings: Record<string, number> = {};
  const failures: string[] = [];
  for (const backend of backends) {
    await initBackend(backend);
    try {
      timings[backend] = await timeSteps(shape, 1);
    } catch (error) {
      failures.push(`the ${backend} backend failed on it: ${(error as Error).message.split('\n')[0].replace(/\.$/, '')}`);
    }
  }
  return { timings, failures };
}

/** Milliseconds of wall time per training step on the active backend with each number of threads. */
async function measureThreads(shape: CalibrationShape, counts: number[]): Promise<Record<string, number>> {
  const timings: Record<string, number> = {};
  for (const threads of counts) timings[threads] = await timeSteps(shape, threads);
  return timings;
}

async function timeSteps(shape: CalibrationShape, threads: number): Promise<number> {
  const random = new Random(shape.vocabSize);
  const ids = () => Int32Array.from({ length: shape.batch * shape.seqLen }, () => random.int(shape.vocabSize));
  const batches = Array.from({ length: WARM_UP_STEPS + TIMED_STEPS }, () => ({ inputs: ids(), targets: ids(), rows: shape.batch, seqLen: shape.seqLen }));
  const model = buildModel(shape, 1);
  const samples = sampledWords(shape.softmaxSamples, shape.vocabSize);
  const sampledSoftmax = samples > 0 ? { samples, counts: wordCounts(Int32Array.from(batches.flatMap((b) => [...b.targets])), shape.vocabSize) } : undefined;
  const settings = { learningRate: 1e-3, clipNorm: 5, seed: 1, tieWeights: shape.embedding === shape.units, sampledSoftmax };
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const trainer =
    threads > 1 ? new ParallelTrainer(model, variables, settings, threads) : makeTrainer(model, { ...settings, engine: 'fast', epochs: 1, batch: shape.batch, patience: 0 });
  try {
    // Warm-up steps compile kernels, fill caches and start the threads.
    for (const batch of batches.slice(0, WARM_UP_STEPS)) await trainer.step(batch);
    const started = performance.now();
    for (const batch of batches.slice(WARM_UP_STEPS)) await trainer.step(batch);
    return (performance.now() - started) / TIMED_STEPS;
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

/**
 * Raised whenever a change to the training engines can change which backend is faster, so
 * that timings measured by an older engine are not reused (2: native TensorFlow trains on
 * the sampled softmax too; 3: it runs each step as one TensorFlow graph; 4: it draws
 * dropout masks as the fast path does, a third of a small step faster).
 */
const ENGINE_REVISION = 4;

/** Everything the timings depend on: the model's shape, the engine's revision, the library versions and the machine. */
function calibrationKey(shape: CalibrationShape): string {
  const { cell, vocabSize, embedding, units, layers, batch, seqLen } = shape;
  const samples = sampledWords(shape.softmaxSamples, vocabSize);
  return [cell, vocabSize, embedding, units, layers, batch, seqLen, ...(samples ? [`sampled ${samples}`] : []), `engine ${ENGINE_REVISION}`, `tfjs ${tf.version.tfjs}`, `tensorflow ${nativeVersion() ?? '-'} ${nativeKernels() ?? ''}`.trimEnd(), `${os.cpus().length} cpus`].join(' ');
}

/** Milliseconds per step by what was timed (a backend's name, or a number of threads), per calibration key. */
type Cache = Record<string, Record<string, number>>;

function readCache(file: string | undefined): Cache {
  if (!file) return {};
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Cache) : {};
  } catch {
    return {}; // none yet, or damaged: measure again
  }
}

function writeCache(file: string, cache: Cache): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(cache, null, 1));
  } catch {
    // A cache that cannot be written only costs the next run a new measurement.
  }
}
