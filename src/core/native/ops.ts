/**
 * TensorFlow's own ops, called by name on the `tensorflow` backend (@tensorflow/tfjs-node).
 *
 * tfjs-node runs every TF.js op as one eager TensorFlow op, but TF.js has no op for
 * TensorFlow's fused recurrent kernels (BlockLSTM, GRUBlockCell and their gradients) or for
 * the fused softmax cross-entropy. The backend can execute any op of the TensorFlow C API
 * by name; this module is the one place that reaches into it. The outputs are ordinary
 * TF.js tensors, tracked by `tf.tidy` like any other.
 */
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-node's NodeJSKernelBackend used here (not in TF.js' public types). */
interface NodeBackend {
  binding: {
    TF_FLOAT: number;
    TF_INT32: number;
    TF_ATTR_TYPE: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_INT: number;
  };
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: OpInput[], outputs: number): tf.Tensor[];
}

interface OpAttr {
  name: string;
  type: number;
  value: number | boolean;
}

/** tfjs-node's stand-in for an int64 scalar input (TF.js has no int64 dtype). */
interface Int64Scalar {
  readonly dtype: 'int64';
}

type OpInput = tf.Tensor | Int64Scalar;

/** An attribute value: a dtype, a float, an int or a bool. */
export type AttrValue = { type: 'float32' | 'int32' } | { float: number } | { int: number } | boolean;

/** True when the active backend is native TensorFlow, where these ops exist. */
export function nativeBackendActive(): boolean {
  return tf.getBackend() === 'tensorflow';
}

function nodeBackend(): NodeBackend {
  if (!nativeBackendActive()) throw new Error('TensorFlow ops by name need the tensorflow backend (@tensorflow/tfjs-node).');
  return tf.backend() as unknown as NodeBackend;
}

/**
 * Runs the TensorFlow op `name` on `inputs` (in the op's declared order) and returns its
 * first `outputs` outputs. `attrs` are the op's attributes by their TensorFlow names.
 */
export function runOp(name: string, inputs: OpInput[], attrs: Record<string, AttrValue>, outputs: number): tf.Tensor[] {
  const backend = nodeBackend();
  const { binding } = backend;
  const opAttrs = Object.entries(attrs).map(([attrName, value]): OpAttr => {
    if (typeof value === 'boolean') return { name: attrName, type: binding.TF_ATTR_BOOL, value };
    if ('float' in value) return { name: attrName, type: binding.TF_ATTR_FLOAT, value: value.float };
    if ('int' in value) return { name: attrName, type: binding.TF_ATTR_INT, value: value.int };
    return { name: attrName, type: binding.TF_ATTR_TYPE, value: value.type === 'int32' ? binding.TF_INT32 : binding.TF_FLOAT };
  });
  return backend.executeMultipleOutputs(name, opAttrs, inputs, outputs);
}

/** The float32 `T` attribute that most ops take. */
export const FLOAT = { T: { type: 'float32' } } as const;

let int64Scalar: ((value: number) => Int64Scalar) | undefined;

/** An int64 scalar input, for the ops whose lengths are int64 (BlockLSTM's seq_len_max). */
export function int64(value: number): Int64Scalar {
  if (!int64Scalar) {
    // Resolved next to the tfjs-node that registered the backend, which may be outside
    // this package (see backend.ts).
    const { Int64Scalar } = requireFromNativePackage('dist/int64_tensors') as { Int64Scalar: new (value: number) => Int64Scalar };
    int64Scalar = (v) => new Int64Scalar(v);
  }
  return int64Scalar(value);
}

let nativePackageRequire: ((path: string) => unknown) | undefined;

/** Set by backend.ts when it loads tfjs-node: requires a file of that package. */
export function setNativePackageRequire(load: (path: string) => unknown): void {
  nativePackageRequire = load;
}

function requireFromNativePackage(path: string): unknown {
  if (!nativePackageRequire) throw new Error('The tensorflow backend was not loaded through backend.ts.');
  return nativePackageRequire(path);
}

/**
 * a·b with TensorFlow's MatMul. TF.js' matMul runs BatchMatMulV2 on this backend, which
 * measured 2–5× slower on the 2-D products of a training step; a transposed operand costs
 * a copy, so loops hand in operands transposed once beforehand.
 */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor2D {
  return runOp('MatMul', [a, b], { ...FLOAT, transpose_a: transposeA, transpose_b: transposeB }, 1)[0] as tf.Tensor2D;
}

/*
 * The few elementwise and layout ops the per-step loops and the optimizer run hundreds of
 * times a batch, called by name: TF.js' own ops add ~50 µs of dispatch each on this
 * backend, which at these sizes is more than the work.
 */
export const add = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => runOp('AddV2', [a, b], FLOAT, 1)[0];
export const sub = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => runOp('Sub', [a, b], FLOAT, 1)[0];
export const mul = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => runOp('Mul', [a, b], FLOAT, 1)[0];
export const div = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => runOp('RealDiv', [a, b], FLOAT, 1)[0];
export const tanh = (x: tf.Tensor): tf.Tensor => runOp('Tanh', [x], FLOAT, 1)[0];
export const sqrt = (x: tf.Tensor): tf.Tensor => runOp('Sqrt', [x], FLOAT, 1)[0];
export const square = (x: tf.Tensor): tf.Tensor => runOp('Square', [x], FLOAT, 1)[0];

/** The `count` slices of `x` along its first axis. */
export function unstack(x: tf.Tensor, count: number): tf.Tensor[] {
  return runOp('Unpack', [x], { ...FLOAT, num: { int: count }, axis: { int: 0 } }, count);
}
