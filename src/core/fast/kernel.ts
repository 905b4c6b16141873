/**
 * Custom TensorFlow.js kernels written as loops over Float32Arrays.
 *
 * The fast path needs a handful of operations that the stock ops do badly on the wasm
 * backend: its Slice copies the whole input to JS before cutting, its Transpose and
 * reductions over the first axis take ~14 ms for a million numbers, and one LSTM step
 * is a dozen ops of ~20 µs overhead each. A kernel defined here is one op that reads its
 * inputs and writes its outputs in place: on wasm straight in the module's heap (where most
 * kernels hand the work to their WebAssembly SIMD twin, wasm/simd.ts), on cpu in the
 * backend's own arrays. Other backends (tfjs-node) get the same loops through copies.
 */
import * as tf from '@tensorflow/tfjs';

export type View = Float32Array | Int32Array;
export type KernelDtype = 'float32' | 'int32';

export interface OutputSpec {
  shape: number[];
  dtype?: KernelDtype;
}

export interface KernelDefinition<A> {
  /** Registered kernel name; prefixed so it never collides with a TF.js kernel. */
  name: string;
  /** Shapes (and dtypes, float32 by default) of the outputs. */
  outputs(inputShapes: number[][], attrs: A): OutputSpec[];
  /**
   * Fills every element of every output from the inputs. The views are only valid
   * during the call (wasm memory may grow afterwards), and inputs must not be written.
   */
  run(inputs: View[], outputs: View[], attrs: A, inputShapes: number[][]): void;
}

/** Numbers only: kernel attributes travel through the engine's attribute map. */
export type KernelAttrs = Record<string, number>;

/** Calls the kernel on tensors and returns its outputs in the order `outputs` gave them. */
export type KernelOp<A> = (inputs: tf.Tensor[], attrs: A) => tf.Tensor[];

/**
 * Defines a kernel once for every backend. It is registered with the engine lazily, for
 * the backend that is active when it first runs.
 */
export function defineKernel<A extends KernelAttrs>(definition: KernelDefinition<A>): KernelOp<A> {
  const name = `SeqLab${definition.name}`;
  return (inputs, attrs) => {
    const backendName = tf.getBackend();
    if (!tf.getKernel(name, backendName)) register(name, backendName, definition);
    const named: tf.NamedTensorMap = {};
    inputs.forEach((t, i) => (named[i] = t));
    const result = tf.engine().runKernel(name, named, attrs as unknown as tf.NamedAttrMap);
    return Array.isArray(result) ? result : [result];
  };
}

function register<A>(name: string, backendName: string, definition: KernelDefinition<A>): void {
  tf.registerKernel({
    kernelName: name,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const infos = Object.keys(inputs)
        .sort((a, b) => Number(a) - Number(b))
        .map((key) => inputs[key] as tf.TensorInfo);
      const shapes = infos.map((t) => t.shape);
      const specs = definition.outputs(shapes, attrs as unknown as A);
      const memory = memoryOf(backendName, backend);
      const outputs = memory.allocate(specs);
      // Views last: allocating can grow the wasm heap and detach earlier views.
      const inputViews = infos.map((t) => memory.view(t));
      const outputViews = outputs.map((o) => o.view());
      definition.run(inputViews, outputViews, attrs as unknown as A, shapes);
      return outputs.map((o) => o.finish());
    },
  });
}

interface Allocated {
  view(): View;
  finish(): tf.TensorInfo;
}

interface Memory {
  view(info: tf.TensorInfo): View;
  allocate(specs: OutputSpec[]): Allocated[];
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const newArray = (spec: OutputSpec): View =>
  spec.dtype === 'int32' ? new Int32Array(size(spec.shape)) : new Float32Array(size(spec.shape));

/** How a kernel reaches tensor memory on each kind of backend. */
function memoryOf(backendName: string, backend: unknown): Memory {
  if (backendName === 'wasm') {
    const wasm = backend as WasmBackend;
    return {
      view: (info) => wasm.typedArrayFromHeap(info) as View,
      allocate: (specs) =>
        specs.map((spec) => {
          const info = wasm.makeOutput(spec.shape, spec.dtype ?? 'float32');
          return { view: () => wasm.typedArrayFromHeap(info) as View, finish: () => info };
        }),
    };
  }
  // Every backend can read a tensor out and write a new one in; cpu can also be read in place.
  const generic = backend as tf.KernelBackend;
  const view =
    backendName === 'cpu'
      ? (info: tf.TensorInfo) => (backend as CpuBackend).data.get(info.dataId).values as View
      : (info: tf.TensorInfo) => generic.readSync(info.dataId) as View;
  return {
    view,
    allocate: (specs) =>
      specs.map((spec) => {
        const values = newArray(spec);
        const dtype = spec.dtype ?? 'float32';
        return {
          view: () => values,
          finish: () => ({ dataId: generic.write(values, spec.shape, dtype), shape: spec.shape, dtype }),
        };
      }),
  };
}

/** The parts of the backends' classes the kernels use (not in their public types). */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): ArrayLike<number>;
}
interface CpuBackend {
  data: { get(dataId: object): { values: ArrayLike<number> } };
}

/**
 * Copies a float32 tensor's values into `target` at `offset`, straight from the backend's
 * memory on wasm and cpu: dataSync would first copy them into a fresh array, and fresh
 * memory of megabytes costs page faults on every step (data-parallel training exchanges
 * every gradient each step).
 */
export function copyValuesInto(tensor: tf.Tensor, target: Float32Array, offset: number): void {
  const name = tf.getBackend();
  const info = { dataId: tensor.dataId, shape: tensor.shape, dtype: tensor.dtype };
  const values =
    name === 'wasm'
      ? (tf.backend() as unknown as WasmBackend).typedArrayFromHeap(info)
      : name === 'cpu'
        ? (tf.backend() as unknown as CpuBackend).data.get(tensor.dataId).values
        : tensor.dataSync();
  target.set(values as Float32Array, offset);
}
