/**
 * A TensorFlow graph written as a SavedModel file (saved_model.pb), the one form in which
 * tfjs-node hands a whole graph to TensorFlow's C API (TF_LoadSessionFromSavedModel).
 *
 * Only the few protocol-buffer messages a graph of plain ops needs are written, by hand:
 * SavedModel → MetaGraphDef (tag "serve") → GraphDef → NodeDef with its attributes. The
 * graph has no variables (the weights are fed in on every run), so the SavedModel has no
 * checkpoint and no signatures: nodes are fed and fetched by name.
 * Field numbers are those of tensorflow/core/framework/*.proto and protobuf/saved_model.proto.
 */

/** TensorFlow's DataType enum values for the dtypes a graph here uses. */
export const DT = { float32: 1, int32: 3, int64: 9, bool: 10 } as const;
export type GraphDType = keyof typeof DT;

/** A constant tensor's contents, little-endian as TensorProto.tensor_content holds them. */
export interface TensorValue {
  dtype: GraphDType;
  shape: number[];
  content: Uint8Array;
}

export type AttrValue =
  | { type: GraphDType }
  | { int: number }
  | { float: number }
  | { bool: boolean }
  | { shape: number[] }
  | { tensor: TensorValue };

export interface NodeDef {
  name: string;
  op: string;
  /** "node" or "node:k" for output k. */
  inputs: string[];
  attrs: Record<string, AttrValue>;
}

/**
 * The GraphDef version the nodes are written for: graphs from TensorFlow 2.x releases
 * carry a producer in the 1,000s, and ops are interpreted as their current definitions.
 */
const GRAPH_PRODUCER = 1882;

export function savedModelBytes(nodes: NodeDef[]): Uint8Array {
  const model = new Writer();
  model.varintField(1, 1); // saved_model_schema_version
  model.messageField(2, (metaGraph) => {
    metaGraph.messageField(1, (info) => info.stringField(4, 'serve')); // meta_info_def.tags
    metaGraph.messageField(2, (graph) => {
      for (const node of nodes) graph.messageField(1, (n) => writeNode(n, node));
      graph.messageField(4, (versions) => versions.varintField(1, GRAPH_PRODUCER));
    });
  });
  return model.bytes();
}

function writeNode(out: Writer, node: NodeDef): void {
  out.stringField(1, node.name);
  out.stringField(2, node.op);
  for (const input of node.inputs) out.stringField(3, input);
  for (const [key, value] of Object.entries(node.attrs)) {
    // map<string, AttrValue> entries are messages of key = 1, value = 2.
    out.messageField(5, (entry) => {
      entry.stringField(1, key);
      entry.messageField(2, (attr) => writeAttr(attr, value));
    });
  }
}

function writeAttr(out: Writer, value: AttrValue): void {
  if ('type' in value) out.varintField(6, DT[value.type]);
  else if ('int' in value) out.varintField(3, value.int);
  else if ('float' in value) out.floatField(4, value.float);
  else if ('bool' in value) out.varintField(5, value.bool ? 1 : 0);
  else if ('shape' in value) out.messageField(7, (shape) => writeShape(shape, value.shape));
  else out.messageField(8, (tensor) => writeTensor(tensor, value.tensor));
}

/** TensorShapeProto: one dim message per axis; −1 is an axis of unknown size. */
function writeShape(out: Writer, shape: number[]): void {
  for (const size of shape) out.messageField(2, (dim) => dim.varintField(1, size));
}

function writeTensor(out: Writer, tensor: TensorValue): void {
  out.varintField(1, DT[tensor.dtype]);
  out.messageField(2, (shape) => writeShape(shape, tensor.shape));
  out.bytesField(4, tensor.content);
}

/** The protocol-buffer wire format: varints, fixed 32-bit floats and length-delimited fields. */
class Writer {
  private readonly chunks: number[] = [];

  varintField(field: number, value: number): void {
    this.key(field, 0);
    this.varint(value);
  }

  floatField(field: number, value: number): void {
    this.key(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.chunks.push(...bytes);
  }

  stringField(field: number, value: string): void {
    this.bytesField(field, new TextEncoder().encode(value));
  }

  bytesField(field: number, value: Uint8Array): void {
    this.key(field, 2);
    this.varint(value.length);
    for (const byte of value) this.chunks.push(byte);
  }

  messageField(field: number, write: (message: Writer) => void): void {
    const message = new Writer();
    write(message);
    this.bytesField(field, message.bytes());
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }

  private key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** Negative numbers (an unknown dimension, −1) take ten bytes, as int64 varints do. */
  private varint(value: number): void {
    let rest = BigInt.asUintN(64, BigInt(value));
    while (rest > 127n) {
      this.chunks.push(Number(rest & 127n) | 128);
      rest >>= 7n;
    }
    this.chunks.push(Number(rest));
  }
}
