/**
 * Chooses and initialises the TensorFlow.js backend: native `tensorflow` when the
 * optional `@tensorflow/tfjs-node` package loads, else `wasm` (its binaries ship in the
 * npm package, so it always works), else the pure-JS `cpu` backend.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from './errors';
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
      if (await tryBackend(name)) {
        active = name;
        return name;
      }
      failures.push(`${name}: not available`);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new UserError(
    preference === 'auto'
      ? `No TensorFlow.js backend could start (${failures.join('; ')}).`
      : `The ${preference} backend is not available here (${failures.join('; ')}).`,
  );
}

/** The backend chosen by `initBackend`, for reports. */
export function activeBackend(): BackendName | undefined {
  return active;
}

async function tryBackend(name: BackendName): Promise<boolean> {
  switch (name) {
    case 'tensorflow':
      try {
        // Registers the `tensorflow` backend as a side effect. Optional dependency: its
        // install script needs a download that is not possible everywhere.
        require('@tensorflow/tfjs-node');
      } catch {
        return false;
      }
      break;
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // When bundled, the backend cannot find its .wasm files next to itself; point it at
      // the package folder explicitly.
      const dir = require('node:path').dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      wasm.setWasmPaths(`${dir}/dist/`);
      registerMissingWasmKernels();
      break;
    }
    case 'cpu':
      break;
  }
  if (!(await tf.setBackend(name))) return false;
  await tf.ready();
  return tf.getBackend() === name;
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
