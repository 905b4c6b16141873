/**
 * Builds a TensorFlow graph of the native network's computation, op by op, for
 * TensorFlow's own executor to run (session.ts).
 *
 * The native path ran the same ops eagerly first, one tfjs-node call each: a training step
 * is some 300 ops at ~30 µs of dispatch apiece plus TF.js' bookkeeping around them, a
 * quarter of the step at 1,000 words. Built once per batch shape and run as a graph, the
 * step is one call, and TensorFlow's executor runs independent ops side by side.
 *
 * Each helper is one TensorFlow op under its own name with the shape it gives, so that the
 * code reads like the eager ops it replaced. Attributes that have defaults are left out:
 * newer TensorFlow releases add some (TopKV2's index_type), and the libtensorflow that
 * tfjs-node downloads (2.9) refuses a node that names an attribute it does not know. −1 is an axis whose size is known only at run
 * time (a sampled softmax's candidate count).
 */
import { type AttrValue, type GraphDType, type NodeDef, type TensorValue } from './savedModel';

/** One output of a node: what later ops take as input. */
export interface Sym {
  readonly ref: string;
  readonly shape: number[];
  readonly dtype: GraphDType;
}

const FLOAT = { T: { type: 'float32' } } as const;
/** The smallest normal float32: where a probability's log is still finite. */
const FLOAT32_SMALLEST = 1.1754944e-38;

export class Graph {
  readonly nodes: NodeDef[] = [];
  /** Fed on every run, in the order declared. */
  readonly inputs: Sym[] = [];
  private names = new Map<string, number>();

  /** A value fed on every run (a weight, the batch's ids, a dropout mask). */
  input(name: string, shape: number[], dtype: GraphDType = 'float32'): Sym {
    const [sym] = this.op('Placeholder', [], { dtype: { type: dtype }, shape: { shape } }, [shape], [dtype], name);
    this.inputs.push(sym);
    return sym;
  }

  /** Runs TensorFlow's op `op` on `inputs`; its outputs have `shapes` (and `dtypes`, float32 by default). */
  op(op: string, inputs: Sym[], attrs: Record<string, AttrValue>, shapes: number[][], dtypes?: GraphDType[], name?: string): Sym[] {
    const nodeName = this.uniqueName(name ?? op);
    this.nodes.push({ name: nodeName, op, inputs: inputs.map((input) => input.ref), attrs });
    return shapes.map((shape, k) => ({ ref: k === 0 ? nodeName : `${nodeName}:${k}`, shape, dtype: dtypes?.[k] ?? 'float32' }));
  }

  constant(values: ArrayLike<number>, shape: number[], dtype: 'float32' | 'int32' | 'int64' = 'float32'): Sym {
    const tensor: TensorValue = { dtype, shape, content: bytesOf(values, dtype) };
    return this.op('Const', [], { dtype: { type: dtype }, value: { tensor } }, [shape], [dtype])[0];
  }

  scalar(value: number): Sym {
    return this.constant([value], []);
  }

  private ints(values: number[]): Sym {
    return this.constant(values, [values.length], 'int32');
  }

  private intScalar(value: number): Sym {
    return this.constant([value], [], 'int32');
  }

  private uniqueName(base: string): string {
    const count = this.names.get(base) ?? 0;
    this.names.set(base, count + 1);
    return count === 0 ? base : `${base}_${count}`;
  }

  // Products and elementwise arithmetic.

  matMul(a: Sym, b: Sym, transposeA = false, transposeB = false): Sym {
    const rows = transposeA ? a.shape[1] : a.shape[0];
    const cols = transposeB ? b.shape[0] : b.shape[1];
    return this.op('MatMul', [a, b], { ...FLOAT, transpose_a: { bool: transposeA }, transpose_b: { bool: transposeB } }, [[rows, cols]])[0];
  }

  add(a: Sym, b: Sym): Sym {
    return this.binary('AddV2', a, b);
  }

  sub(a: Sym, b: Sym): Sym {
    return this.binary('Sub', a, b);
  }

  mul(a: Sym, b: Sym): Sym {
    return this.binary('Mul', a, b);
  }

  div(a: Sym, b: Sym): Sym {
    return this.binary('RealDiv', a, b);
  }

  maximum(a: Sym, b: Sym): Sym {
    return this.binary('Maximum', a, b);
  }

  addN(values: Sym[]): Sym {
    return values.length === 1 ? values[0] : this.op('AddN', values, { ...FLOAT, N: { int: values.length } }, [values[0].shape])[0];
  }

  tanh(x: Sym): Sym {
    return this.unary('Tanh', x);
  }

  sqrt(x: Sym): Sym {
    return this.unary('Sqrt', x);
  }

  square(x: Sym): Sym {
    return this.unary('Square', x);
  }

  neg(x: Sym): Sym {
    return this.unary('Neg', x);
  }

  /** (1 − y²)·dy: tanh's gradient from its output y. */
  tanhGrad(y: Sym, dy: Sym): Sym {
    return this.op('TanhGrad', [y, dy], FLOAT, [y.shape])[0];
  }

  /** The sum over `axes`, which are dropped. */
  sum(x: Sym, axes: number[]): Sym {
    const shape = x.shape.filter((_, axis) => !axes.includes(axis));
    return this.op('Sum', [x, this.ints(axes)], { ...FLOAT, Tidx: { type: 'int32' }, keep_dims: { bool: false } }, [shape])[0];
  }

  // Layout.

  reshape(x: Sym, shape: number[]): Sym {
    return this.op('Reshape', [x, this.ints(shape)], { T: { type: x.dtype }, Tshape: { type: 'int32' } }, [resolveShape(x.shape, shape)], [x.dtype])[0];
  }

  slice(x: Sym, begin: number[], size: number[]): Sym {
    const shape = size.map((s, axis) => (s === -1 ? x.shape[axis] - begin[axis] : s));
    return this.op('Slice', [x, this.ints(begin), this.ints(size)], { T: { type: x.dtype }, Index: { type: 'int32' } }, [shape], [x.dtype])[0];
  }

  concat(values: Sym[], axis: number): Sym {
    if (values.length === 1) return values[0];
    const shape = values[0].shape.slice();
    shape[axis] = values.some((v) => v.shape[axis] < 0) ? -1 : values.reduce((total, v) => total + v.shape[axis], 0);
    return this.op('ConcatV2', [...values, this.intScalar(axis)], { T: { type: values[0].dtype }, N: { int: values.length }, Tidx: { type: 'int32' } }, [shape], [values[0].dtype])[0];
  }

  /** Pieces of `sizes` along `axis`. */
  split(x: Sym, sizes: number[], axis: number): Sym[] {
    const shapes = sizes.map((size) => x.shape.map((d, a) => (a === axis ? size : d)));
    return this.op('SplitV', [x, this.ints(sizes), this.intScalar(axis)], { ...FLOAT, num_split: { int: sizes.length }, Tlen: { type: 'int32' } }, shapes);
  }

  /** The `count` slices of x along its first axis. */
  unstack(x: Sym, count: number): Sym[] {
    const shape = x.shape.slice(1);
    return this.op('Unpack', [x], { T: { type: x.dtype }, num: { int: count }, axis: { int: 0 } }, Array.from({ length: count }, () => shape), Array(count).fill(x.dtype));
  }

  transpose(x: Sym): Sym {
    return this.op('Transpose', [x, this.ints([1, 0])], { ...FLOAT, Tperm: { type: 'int32' } }, [[x.shape[1], x.shape[0]]])[0];
  }

  /** Rows (axis 0) or columns (axis 1) of `params` at `indices`. */
  gather(params: Sym, indices: Sym, axis: number): Sym {
    const shape = params.shape.slice();
    shape[axis] = indices.shape[0];
    return this.op('GatherV2', [params, indices, this.intScalar(axis)], { Tparams: { type: params.dtype }, Tindices: { type: 'int32' }, Taxis: { type: 'int32' } }, [shape], [params.dtype])[0];
  }

  /** Rows of `data` added into `segments` rows by `ids`. */
  unsortedSegmentSum(data: Sym, ids: Sym, segments: number): Sym {
    const shape = [segments, ...data.shape.slice(1)];
    return this.op('UnsortedSegmentSum', [data, ids, this.intScalar(segments)], { ...FLOAT, Tindices: { type: 'int32' }, Tnumsegments: { type: 'int32' } }, [shape])[0];
  }

  zeros(shape: number[]): Sym {
    return this.op('Fill', [this.ints(shape), this.scalar(0)], FLOAT, [shape])[0];
  }

  ones(shape: number[]): Sym {
    return this.op('Fill', [this.ints(shape), this.scalar(1)], FLOAT, [shape])[0];
  }

  // Losses and rankings.

  /** Each row's cross-entropy [N], −log softmax at the label, exactly (a pass that needs no gradient). */
  crossEntropy(logits: Sym, labels: Sym): Sym {
    const logProbabilities = this.op('LogSoftmax', [logits], FLOAT, [logits.shape])[0];
    return this.neg(this.atLabels(logProbabilities, labels));
  }

  /**
   * Each row's cross-entropy [N] and the gradient of their sum for the logits [N, V],
   * softmax − one-hot, from one softmax: 3.0 against 4.6 ms for 1,024 × 1,000 logits on one
   * thread with a log-softmax and its exp (TensorFlow's fused
   * SparseSoftmaxCrossEntropyWithLogits took 8.1). The loss is the log of the softmax at
   * the label, so a row whose label has a probability below float32's smallest (a loss over
   * 87 nats, a model gone wrong) counts 87: training figures only, scoring uses crossEntropy.
   */
  crossEntropyWithGradient(logits: Sym, labels: Sym): [Sym, Sym] {
    const rows = logits.shape[0];
    const probabilities = this.op('Softmax', [logits], FLOAT, [logits.shape])[0];
    const atLabels = this.maximum(this.atLabels(probabilities, labels), this.scalar(FLOAT32_SMALLEST));
    const losses = this.neg(this.op('Log', [atLabels], FLOAT, [[rows]])[0]);
    const gradient = this.scatterSub(probabilities, this.labelPositions(labels), this.ones([rows]));
    return [losses, gradient];
  }

  /** `x` with `values` [K] subtracted at the (row, column) pairs `positions` [K, 2]; pairs that repeat subtract each time. */
  scatterSub(x: Sym, positions: Sym, values: Sym): Sym {
    return this.op('TensorScatterSub', [x, positions, values], { ...FLOAT, Tindices: { type: 'int32' } }, [x.shape])[0];
  }

  /** Each row's value at its label [N]. */
  private atLabels(values: Sym, labels: Sym): Sym {
    return this.op('GatherNd', [values, this.labelPositions(labels)], { Tparams: { type: 'float32' }, Tindices: { type: 'int32' } }, [[values.shape[0]]])[0];
  }

  /** [row, label] of every row [N, 2]. */
  private labelPositions(labels: Sym): Sym {
    const rows = labels.shape[0];
    const rowNumbers = this.op('Range', [this.intScalar(0), this.intScalar(rows), this.intScalar(1)], { Tidx: { type: 'int32' } }, [[rows]], ['int32'])[0];
    return this.op('Pack', [rowNumbers, labels], { T: { type: 'int32' }, N: { int: 2 }, axis: { int: 1 } }, [[rows, 2]], ['int32'])[0];
  }

  argMax(x: Sym): Sym {
    return this.op('ArgMax', [x, this.intScalar(1)], { ...FLOAT, Tidx: { type: 'int32' }, output_type: { type: 'int32' } }, [[x.shape[0]]], ['int32'])[0];
  }

  /** The indices of each row's k largest values, largest first. */
  topK(x: Sym, k: number): Sym {
    return this.op('TopKV2', [x, this.intScalar(k)], { ...FLOAT, sorted: { bool: true } }, [[x.shape[0], k], [x.shape[0], k]], ['float32', 'int32'])[1];
  }

  /** 1 where a = b and b is not `excluded`, else 0, as float32. */
  hitsExcept(a: Sym, b: Sym, excluded: number): Sym {
    const bool = (op: string, x: Sym, y: Sym) => this.op(op, [x, y], { T: { type: x.dtype } }, [x.shape], ['bool'])[0];
    const both = this.op('LogicalAnd', [bool('Equal', a, b), bool('NotEqual', b, this.constant([excluded], [], 'int32'))], {}, [a.shape], ['bool'])[0];
    return this.op('Cast', [both], { SrcT: { type: 'bool' }, DstT: { type: 'float32' }, Truncate: { bool: false } }, [a.shape])[0];
  }

  addScalarInt(x: Sym, value: number): Sym {
    return this.op('AddV2', [x, this.intScalar(value)], { T: { type: 'int32' } }, [x.shape], ['int32'])[0];
  }

  private unary(op: string, x: Sym): Sym {
    return this.op(op, [x], FLOAT, [x.shape])[0];
  }

  private binary(op: string, a: Sym, b: Sym): Sym {
    return this.op(op, [a, b], FLOAT, [broadcastShape(a.shape, b.shape)])[0];
  }
}

function broadcastShape(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    return x === 1 ? y : x;
  });
}

/** A reshape's target with its −1 worked out where the input's size is known. */
function resolveShape(from: number[], to: number[]): number[] {
  const known = from.every((d) => d >= 0);
  const missing = to.indexOf(-1);
  if (!known || missing < 0) return to;
  const total = from.reduce((p, d) => p * d, 1);
  const rest = to.reduce((p, d) => (d === -1 ? p : p * d), 1);
  return to.map((d) => (d === -1 ? total / rest : d));
}

function bytesOf(values: ArrayLike<number>, dtype: 'float32' | 'int32' | 'int64'): Uint8Array {
  if (dtype === 'float32') return new Uint8Array(Float32Array.from(values).buffer);
  if (dtype === 'int32') return new Uint8Array(Int32Array.from(values).buffer);
  return new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer);
}
