/**
 * A small WebAssembly writer: enough of the binary format to build a module of numeric
 * functions over an imported memory, with the 128-bit SIMD instructions.
 *
 * Why hand-written WebAssembly: the cell, loss and optimizer kernels are loops of
 * elementwise arithmetic (exp, divide, multiply-add) over tens of thousands of numbers per
 * call. In JavaScript they run one number at a time at ~7 ns for an exp; WebAssembly SIMD
 * does four at once in a few cycles, and works in the wasm backend's own memory, so the
 * tensors never move. No compiler to WebAssembly is part of this project's toolchain, so
 * the functions are written with this encoder (see simd.ts) and assembled at start-up,
 * which takes well under a millisecond.
 */

export type ValueType = 'i32' | 'f32';
const TYPE_CODE: Record<ValueType, number> = { i32: 0x7f, f32: 0x7d };
const V128 = 0x7b;

function unsigned(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function signed(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function f32Bytes(value: number): number[] {
  return [...new Uint8Array(new Float32Array([value]).buffer)];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsigned(bytes.length), ...bytes];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...unsigned(contents.length), ...contents];
}

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

/** A local variable or parameter, by index. */
export interface Local {
  readonly index: number;
  readonly type: ValueType | 'v128';
}

/**
 * Builds one function's body. Every method appends one instruction (the names follow the
 * WebAssembly text format) and returns the builder, so bodies read top to bottom.
 */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly localTypes: (ValueType | 'v128')[] = [];

  constructor(readonly params: ValueType[]) {}

  param(index: number): Local {
    return { index, type: this.params[index] };
  }

  local(type: ValueType | 'v128'): Local {
    this.localTypes.push(type);
    return { index: this.params.length + this.localTypes.length - 1, type };
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.op(0xfd, ...unsigned(opcode), ...immediates);
  }

  // Control. `block`/`loop` take no values and give none.
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  if_(): this {
    return this.op(0x04, 0x40);
  }
  else_(): this {
    return this.op(0x05);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c, ...unsigned(depth));
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...unsigned(depth));
  }

  // Locals.
  get(local: Local): this {
    return this.op(0x20, ...unsigned(local.index));
  }
  set(local: Local): this {
    return this.op(0x21, ...unsigned(local.index));
  }
  tee(local: Local): this {
    return this.op(0x22, ...unsigned(local.index));
  }

  // Scalars. Memory offsets are in bytes; alignment hints are log2 of the byte alignment.
  i32Const(value: number): this {
    return this.op(0x41, ...signed(value | 0));
  }
  f32Const(value: number): this {
    return this.op(0x43, ...f32Bytes(value));
  }
  i32Load(offset = 0): this {
    return this.op(0x28, 2, ...unsigned(offset));
  }
  f32Load(offset = 0): this {
    return this.op(0x2a, 2, ...unsigned(offset));
  }
  f32Store(offset = 0): this {
    return this.op(0x38, 2, ...unsigned(offset));
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32Eq(): this {
    return this.op(0x46);
  }
  i32Ne(): this {
    return this.op(0x47);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32GtU(): this {
    return this.op(0x4b);
  }
  i32GeU(): this {
    return this.op(0x4f);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32Shl(): this {
    return this.op(0x74);
  }
  i32And(): this {
    return this.op(0x71);
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Sub(): this {
    return this.op(0x93);
  }
  f32Mul(): this {
    return this.op(0x94);
  }
  f32Div(): this {
    return this.op(0x95);
  }
  f32Sqrt(): this {
    return this.op(0x91);
  }
  f32Gt(): this {
    return this.op(0x5e);
  }
  f32Max(): this {
    return this.op(0x97);
  }

  // SIMD: v128 memory and lanes of four f32 or four i32.
  v128Load(offset = 0): this {
    return this.simd(0x00, 2, ...unsigned(offset));
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b, 2, ...unsigned(offset));
  }
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  /** Four copies of `value` (one v128.const: a splat inside a loop costs an instruction each time). */
  f32x4Const(value: number): this {
    const lane = f32Bytes(value);
    return this.simd(0x0c, ...lane, ...lane, ...lane, ...lane);
  }
  i32x4Const(value: number): this {
    const lane = [...new Uint8Array(new Int32Array([value]).buffer)];
    return this.simd(0x0c, ...lane, ...lane, ...lane, ...lane);
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  f32x4Div(): this {
    return this.simd(0xe7);
  }
  f32x4Min(): this {
    return this.simd(0xe8);
  }
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  /** min/max without NaN and signed-zero rules: one instruction instead of about eight on x64. */
  f32x4Pmin(): this {
    return this.simd(0xea);
  }
  f32x4Pmax(): this {
    return this.simd(0xeb);
  }
  f32x4Sqrt(): this {
    return this.simd(0xe3);
  }
  f32x4Nearest(): this {
    return this.simd(0x6a);
  }
  i32x4TruncSatF32x4S(): this {
    return this.simd(0xf8);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }
  i32x4Shl(): this {
    return this.simd(0xab);
  }
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  v128Or(): this {
    return this.simd(0x50);
  }
  /** 1 if any bit of the v128 is set, else 0. */
  v128AnyTrue(): this {
    return this.simd(0x53);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f, lane);
  }
  /** Lanes of two f32x4/i32x4 values: 0–3 pick from the first, 4–7 from the second (an i8x16.shuffle). */
  shuffle32(lanes: number[]): this {
    return this.simd(0x0d, ...lanes.flatMap((lane) => [4 * lane, 4 * lane + 1, 4 * lane + 2, 4 * lane + 3]));
  }

  /** The function's body: locals, then the code. */
  encode(): number[] {
    const groups = this.localTypes.map((t) => [1, t === 'v128' ? V128 : TYPE_CODE[t]]);
    const body = [...vector(groups), ...this.code, 0x0b];
    return [...unsigned(body.length), ...body];
  }
}

export interface ExportedFunction {
  name: string;
  builder: FunctionBuilder;
}

/** A module importing `env.memory` and exporting the functions (no results; they write memory). */
export function encodeModule(functions: ExportedFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.builder.params.map((p) => [TYPE_CODE[p]])), 0]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...unsigned(1)]])),
    ...section(3, vector(functions.map((_, i) => unsigned(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...unsigned(i)]))),
    ...section(10, vector(functions.map((f) => f.builder.encode()))),
  ];
  return new Uint8Array(bytes);
}
