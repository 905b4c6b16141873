/**
 * The SIMD kernels, assembled once per wasm backend and run in its memory. Each is the
 * vectorised twin of a JavaScript loop in the kernel that calls it; the JavaScript loop
 * stays for the cpu backend and for shapes the vector code does not take (e.g. units not a
 * multiple of four), and the tests check both against the stock layers.
 *
 * Addresses are byte offsets in the wasm backend's heap: on that backend a kernel's input
 * and output views are windows on the heap, so `view.byteOffset` is the tensor's address.
 */
import * as tf from '@tensorflow/tfjs';
import { ARRAY_FUNCTIONS, type ArrayKernels } from './arrayKernels';
import { CELL_FUNCTIONS, type CellKernels } from './cellKernels';
import { encodeModule } from './encoder';

export type SimdKernels = CellKernels & ArrayKernels;

/** The parts of the WebAssembly API used here (the project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WASM = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

let instance: { memory: WasmMemory; kernels: SimdKernels | undefined } | undefined;

/**
 * The SIMD kernels if every view lives in the wasm backend's heap; undefined otherwise
 * (another backend, or a platform without WebAssembly SIMD), and the caller runs its
 * JavaScript loop.
 */
export function simdFor(...views: ArrayBufferView[]): SimdKernels | undefined {
  const memory = wasmMemory();
  if (!memory || !views.every((view) => view.buffer === memory.buffer)) return undefined;
  if (instance?.memory !== memory) instance = { memory, kernels: instantiate(memory) };
  return instance.kernels;
}

/** Whether the SIMD kernels run on the active backend (for reports and tests). */
export function simdActive(): boolean {
  const memory = wasmMemory();
  return memory !== undefined && simdFor(new Uint8Array(memory.buffer, 0, 0)) !== undefined;
}

function instantiate(memory: WasmMemory): SimdKernels | undefined {
  try {
    const module = new WASM.Module(encodeModule([...CELL_FUNCTIONS, ...ARRAY_FUNCTIONS].map((build) => build())));
    return new WASM.Instance(module, { env: { memory } }).exports as SimdKernels;
  } catch {
    return undefined; // no SIMD here: the JavaScript loops run instead
  }
}

function wasmMemory(): WasmMemory | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const module = (tf.backend() as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm;
  const memory = module?.asm?.memory;
  return memory instanceof WASM.Memory ? memory : undefined;
}
