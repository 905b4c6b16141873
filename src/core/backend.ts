/**
 * Starts TensorFlow.js backends: native `tensorflow` when the optional
 * `@tensorflow/tfjs-node` package loads (from this package's node_modules or from a folder
 * the person installed it in), `wasm` (its binaries ship in the npm package, so it always
 * works), and the slow pure-JS `cpu`. Under `auto` training picks between them by
 * measurement (backendChoice.ts); elsewhere `auto` takes the first that loads.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from './errors';
import { canSilenceStderr, withStderrSilenced } from './quietStderr';
import { BACKEND_NAMES, type BackendName, type BackendPreference } from '../protocol/types';

export { BACKEND_NAMES };
export type { BackendName, BackendPreference };

let active: BackendName | undefined;

/** Initialises a backend once per process and returns the name of the one that runs. */
export async function initBackend(preference: BackendPreference = 'auto'): Promise<BackendName> {
  if (active && (preference === 'auto' || preference === active)) return active;
  const order: BackendName[] = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  const failures: string[] = [];
  for (const name of order) {
    try {
      const failure = await tryBackend(name);
      if (!failure) {
        active = name;
        return name;
      }
      failures.push(`the ${name} backend ${failure}`);
    } catch (error) {
      failures.push(`the ${name} backend failed to start (${(error as Error).message})`);
    }
  }
  const reasons = failures.join('; ');
  throw new UserError(preference === 'auto' ? `No TensorFlow.js backend could start: ${reasons}.` : `${reasons[0].toUpperCase()}${reasons.slice(1)}.`);
}

/** The backend chosen by `initBackend`, for reports. */
export function activeBackend(): BackendName | undefined {
  return active;
}

/** Starts a backend; returns why it could not, or undefined when it runs. */
async function tryBackend(name: BackendName): Promise<string | undefined> {
  switch (name) {
    case 'tensorflow': {
      const failure = loadTfjsNode();
      if (failure) return failure;
      break;
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(wasmFolder());
      registerMissingWasmKernels();
      break;
    }
    case 'cpu':
      break;
  }
  if (!(await tf.setBackend(name))) return 'failed to start';
  await tf.ready();
  return tf.getBackend() === name ? undefined : 'failed to start';
}

/**
 * The environment variable naming a folder that holds node_modules/@tensorflow/tfjs-node,
 * searched before this package's own: the extension sets it from its setting (or its
 * storage), and it reaches the training workers with the rest of the environment.
 */
export const NATIVE_FOLDER_VARIABLE = 'SEQLAB_NATIVE_FOLDER';

type NativeKernels = 'oneDNN on' | 'oneDNN off' | 'oneDNN default';

let tfjsNode: { folder: string; kernels: NativeKernels } | undefined;

/** The TensorFlow version the native backend runs, once tfjs-node has loaded. */
export function nativeVersion(): string | undefined {
  if (!tfjsNode) return undefined;
  return (tf.findBackend('tensorflow') as unknown as { binding?: { TF_Version?: string } } | undefined)?.binding?.TF_Version;
}

/**
 * Whether native TensorFlow computes with its oneDNN kernels, as TF_ENABLE_ONEDNN_OPTS
 * said when it loaded ("default": TensorFlow's choice for this CPU), for reports and for
 * the cache of measured backend choices (the kernels change the timings).
 */
export function nativeKernels(): NativeKernels | undefined {
  return tfjsNode?.kernels;
}

function kernelsSet(): NativeKernels {
  const setting = process.env.TF_ENABLE_ONEDNN_OPTS?.toLowerCase();
  if (setting === '1' || setting === 'true') return 'oneDNN on';
  if (setting === '0' || setting === 'false') return 'oneDNN off';
  return 'oneDNN default';
}

/**
 * The environment TensorFlow reads when tfjs-node loads: set before it loads, each variable
 * only where the person has not set it.
 */
function setNativeEnvironment(): void {
  // TensorFlow's C++ logging would print a line for every odd-sized LSTM batch.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // TensorFlow's oneDNN kernels: on by TensorFlow's own choice only on CPUs with AVX-512
  // VNNI or AMX, and faster on both kinds measured (a training step 10–30% on an Intel Xeon
  // with them and an AMD EPYC without; README, Native TensorFlow). TensorFlow prints two
  // lines about them when it loads, which are kept off stderr where that can be done
  // (quietStderr.ts). Where it cannot (the socket a Node parent gives its child) they stay
  // off rather than put two lines in front of every message; the training workers, whose
  // output goes to a log, turn them on (nativeWorkerEnvironment).
  process.env.TF_ENABLE_ONEDNN_OPTS ??= canSilenceStderr() ? '1' : '0';
  // TensorFlow's default CPU allocator hands every large tensor (the [N, V] logits and their
  // gradient: 40 MB at 10,000 words) fresh pages from the system, and touching them cost more
  // than the arithmetic: copying 40 MB took 41 ms, 6 ms from its pooling (BFC) allocator.
  process.env.TF_CPU_ALLOCATOR_USE_BFC ??= 'true';
}

/**
 * What a process that trains on native TensorFlow, and whose stderr goes to a log, adds to
 * its environment: oneDNN's kernels on (setNativeEnvironment), as TensorFlow's two lines
 * about them when it loads harm no one there.
 */
export function nativeWorkerEnvironment(): NodeJS.ProcessEnv {
  return { TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS ?? '1' };
}

/**
 * Loads tfjs-node, which registers the `tensorflow` backend; returns why it could not.
 * It is an optional dependency: its install script downloads TensorFlow, which is not
 * possible everywhere.
 */
export function loadTfjsNode(): string | undefined {
  if (tfjsNode) return undefined;
  setNativeEnvironment();
  const nativeFolder = process.env[NATIVE_FOLDER_VARIABLE] || undefined;
  const folderPackage = nativeFolder && path.join(nativeFolder, 'node_modules', '@tensorflow', 'tfjs-node');
  const fromFolder = folderPackage && fs.existsSync(path.join(folderPackage, 'package.json'));
  try {
    const packageDir = fromFolder ? folderPackage : path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
    withThisTfjs(packageDir, () => withStderrSilenced(() => require(packageDir)));
    tfjsNode = { folder: packageDir, kernels: kernelsSet() };
    return undefined;
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    if (!fromFolder && /Cannot find module '@tensorflow\/tfjs-node/.test(reason)) {
      return `needs @tensorflow/tfjs-node, which is not installed${nativeFolder ? ` (nor in ${nativeFolder})` : ''}`;
    }
    return `could not load @tensorflow/tfjs-node (${reason})`;
  }
}

/**
 * Runs `load` with every `require('@tensorflow/tfjs')` made from inside `packageDir`
 * answered with this engine's own TF.js: a tfjs-node installed elsewhere must register its
 * backend with the TF.js that trains, not with a second copy (the extension bundles TF.js).
 */
function withThisTfjs<T>(packageDir: string, load: () => T): T {
  const loader = Module as unknown as { _load(request: string, parent: { filename?: string } | undefined, isMain: boolean): unknown };
  const original = loader._load;
  loader._load = function (request, parent, isMain) {
    if (request === '@tensorflow/tfjs' && parent?.filename?.startsWith(packageDir)) return tf;
    return original.call(this, request, parent, isMain);
  };
  try {
    return load();
  } finally {
    loader._load = original;
  }
}

/**
 * Where the .wasm binaries are: next to this bundle in the packaged extension (the build
 * copies them there), else in the installed npm package.
 */
function wasmFolder(): string {
  const bundled = path.join(__dirname, 'tfjs-backend-wasm.wasm');
  if (fs.existsSync(bundled)) return __dirname + path.sep;
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

let wasmKernelsRegistered = false;

/**
 * The wasm backend has no `UnsortedSegmentSum`, which the gradient of `gather` (and so
 * of the Embedding layer) needs. A plain loop over the rows is all it takes.
 */
function registerMissingWasmKernels(): void {
  if (wasmKernelsRegistered || tf.getKernel(tf.UnsortedSegmentSum, 'wasm')) return;
  wasmKernelsRegistered = true;
  tf.registerKernel({
    kernelName: tf.UnsortedSegmentSum,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const { numSegments } = attrs as unknown as { numSegments: number };
      const wasmBackend = backend as unknown as WasmBackendInternals;
      const values = wasmBackend.readSync(x.dataId) as Float32Array;
      const ids = wasmBackend.readSync(segmentIds.dataId) as Int32Array;
      const rowSize = ids.length === 0 ? 0 : values.length / ids.length;
      const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      const out = wasmBackend.makeOutput(outShape, x.dtype);
      const sums = wasmBackend.typedArrayFromHeap(out) as Float32Array;
      sums.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const segment = ids[i];
        if (segment < 0 || segment >= numSegments) continue;
        const from = i * rowSize;
        const to = segment * rowSize;
        for (let j = 0; j < rowSize; j++) sums[to + j] += values[from + j];
      }
      return out;
    },
  });
}

interface WasmBackendInternals {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): ArrayLike<number> & { fill(v: number): unknown };
}
