/**
 * `auto` picks the training backend by measurement, not by a fixed order: native
 * TensorFlow is not faster for every model (small vocabularies are dominated by per-op
 * overhead, large ones by the output layer's matmuls, which it runs on every core), so a
 * few training steps of the actual model shape on each backend that loads decide. The
 * result is cached per shape and machine, and always comes with the reason.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, nativeVersion, type BackendName, type BackendPreference } from './backend';
import { buildModel, type ModelShape } from './model';
import { Random } from './random';
import { makeTrainer } from './train';

export interface BackendChoice {
  backend: BackendName;
  /** One sentence for a person: why this backend. */
  reason: string;
}

/** What a calibration measures on: the model and its batches. */
export interface CalibrationShape extends ModelShape {
  batch: number;
  seqLen: number;
}

/** The backends `auto` chooses between, fastest first when they tie. */
const CANDIDATES: BackendName[] = ['tensorflow', 'wasm'];
/** Steps timed per backend, after the warm-up ones that compile kernels and fill caches. */
const WARM_UP_STEPS = 2;
const TIMED_STEPS = 3;

/**
 * Starts the backend for training a model of `shape`: the asked-for one, or under `auto`
 * the faster of those that load, measured (or remembered in `cacheFile`).
 */
export async function chooseTrainingBackend(preference: BackendPreference, shape: CalibrationShape, cacheFile?: string): Promise<BackendChoice> {
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
  const timings = cache[key] ?? (await measure(available, shape));
  if (!cache[key] && cacheFile) writeCache(cacheFile, { ...cache, [key]: timings });
  const ranked = available.filter((name) => timings[name] !== undefined).sort((a, b) => timings[a]! - timings[b]!);
  const [fastest, next] = ranked;
  await initBackend(fastest);
  const ms = (name: BackendName) => `${timings[name]!.toFixed(0)} ms`;
  const ratio = timings[next]! / timings[fastest]!;
  return {
    backend: fastest,
    reason: `${ratio.toFixed(1)}× faster than ${next} on this model (${ms(fastest)} against ${ms(next)} a batch, measured${cache[key] ? ' earlier' : ''} on this machine)`,
  };
}

/** Milliseconds of wall time per training step on each backend. */
async function measure(backends: BackendName[], shape: CalibrationShape): Promise<Partial<Record<BackendName, number>>> {
  const timings: Partial<Record<BackendName, number>> = {};
  const random = new Random(shape.vocabSize);
  const ids = () => Int32Array.from({ length: shape.batch * shape.seqLen }, () => random.int(shape.vocabSize));
  const batches = Array.from({ length: WARM_UP_STEPS + TIMED_STEPS }, () => ({ inputs: ids(), targets: ids(), rows: shape.batch, seqLen: shape.seqLen }));
  for (const backend of backends) {
    await initBackend(backend);
    const model = buildModel(shape, 1);
    const trainer = makeTrainer(model, { engine: 'fast', epochs: 1, batch: shape.batch, patience: 0, learningRate: 1e-3, clipNorm: 5, seed: 1, tieWeights: shape.embedding === shape.units });
    try {
      batches.slice(0, WARM_UP_STEPS).forEach((batch) => trainer.step(batch));
      const started = performance.now();
      batches.slice(WARM_UP_STEPS).forEach((batch) => trainer.step(batch));
      timings[backend] = (performance.now() - started) / TIMED_STEPS;
    } finally {
      trainer.dispose();
      model.dispose();
    }
  }
  return timings;
}

/** Everything the timings depend on: the model's shape, the library versions and the machine. */
function calibrationKey(shape: CalibrationShape): string {
  const { cell, vocabSize, embedding, units, layers, batch, seqLen } = shape;
  return [cell, vocabSize, embedding, units, layers, batch, seqLen, `tfjs ${tf.version.tfjs}`, `tensorflow ${nativeVersion() ?? '-'}`, `${os.cpus().length} cpus`].join(' ');
}

type Cache = Record<string, Partial<Record<BackendName, number>>>;

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
