/**
 * How the SIMD kernels are written: vector arithmetic as expressions (every operation emits
 * its instructions and returns a local holding the result, four f32 lanes, so a kernel reads
 * like the formula it computes; the JIT keeps these locals in registers), loops, and address
 * arithmetic on i32 locals.
 */
import { FunctionBuilder, type Local } from './encoder';

/** A function taking `count` parameters: i32 addresses and counts, then `floats` f32 values. */
export function newFunction(count: number, floats = 0): { b: FunctionBuilder; p: Local[]; v: Vectors } {
  const b = new FunctionBuilder([...Array.from({ length: count - floats }, () => 'i32' as const), ...Array.from({ length: floats }, () => 'f32' as const)]);
  return { b, p: Array.from({ length: count }, (_, i) => b.param(i)), v: new Vectors(b) };
}

/** i32 local = sum of locals and constants. */
export function sum(b: FunctionBuilder, ...terms: (Local | number)[]): Local {
  const out = b.local('i32');
  terms.forEach((t, i) => {
    if (typeof t === 'number') b.i32Const(t);
    else b.get(t);
    if (i > 0) b.i32Add();
  });
  b.set(out);
  return out;
}

/** i32 local = x · y. */
export function product(b: FunctionBuilder, x: Local, y: Local | number): Local {
  const out = b.local('i32');
  b.get(x);
  if (typeof y === 'number') b.i32Const(y);
  else b.get(y);
  b.i32Mul().set(out);
  return out;
}

export class Vectors {
  constructor(readonly b: FunctionBuilder) {}

  private result(): Local {
    const local = this.b.local('v128');
    this.b.set(local);
    return local;
  }

  /** Four floats from memory at `address + offset` bytes. */
  load(address: Local, offset = 0): Local {
    this.b.get(address).v128Load(offset);
    return this.result();
  }

  store(address: Local, value: Local, offset = 0): void {
    this.b.get(address).get(value).v128Store(offset);
  }

  constant(value: number): Local {
    this.b.f32x4Const(value);
    return this.result();
  }

  /** Four copies of a scalar f32 local. */
  splat(scalar: Local): Local {
    this.b.get(scalar).f32x4Splat();
    return this.result();
  }

  add(a: Local, b: Local): Local {
    this.b.get(a).get(b).f32x4Add();
    return this.result();
  }

  sub(a: Local, b: Local): Local {
    this.b.get(a).get(b).f32x4Sub();
    return this.result();
  }

  mul(a: Local, b: Local): Local {
    this.b.get(a).get(b).f32x4Mul();
    return this.result();
  }

  div(a: Local, b: Local): Local {
    this.b.get(a).get(b).f32x4Div();
    return this.result();
  }

  /** Lane-wise max, for numbers (no NaN handling). */
  max(a: Local, b: Local): Local {
    this.b.get(a).get(b).f32x4Pmax();
    return this.result();
  }

  sqrt(a: Local): Local {
    this.b.get(a).f32x4Sqrt();
    return this.result();
  }

  /** a·b + c. */
  mulAdd(a: Local, b: Local, c: Local): Local {
    this.b.get(a).get(b).f32x4Mul().get(c).f32x4Add();
    return this.result();
  }

  /**
   * e^x: Cephes' expf. x = n·ln2 + r with n = round(x / ln2) (ln2 split in two so n·ln2 is
   * exact), e^r by a degree-6 polynomial on |r| ≤ ln2/2, 2^n from the exponent bits.
   * Relative error ~1e-7; x is clamped to [-87, 88] where float32 over- or underflows anyway.
   */
  exp(x: Local): Local {
    const { b } = this;
    const clamped = this.local(() => b.get(x).f32x4Const(88).f32x4Pmin().f32x4Const(-87).f32x4Pmax());
    const n = this.local(() => b.get(clamped).f32x4Const(Math.LOG2E).f32x4Mul().f32x4Nearest());
    const r = this.local(() =>
      b.get(clamped).get(n).f32x4Const(0.693359375).f32x4Mul().f32x4Sub().get(n).f32x4Const(-2.12194440e-4).f32x4Mul().f32x4Sub(),
    );
    return this.local(() => {
      b.get(r).f32x4Const(1.9875691500e-4).f32x4Mul().f32x4Const(1.3981999507e-3).f32x4Add();
      for (const c of [8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) b.get(r).f32x4Mul().f32x4Const(c).f32x4Add();
      // p(r)·r² + r + 1, times 2^n: the float with exponent field n + 127. Adding 2²³ + 127
      // puts n + 127 in the low mantissa bits, and shifting them left by 23 makes them the
      // exponent (cheaper than a saturating float-to-int conversion).
      b.get(r).get(r).f32x4Mul().f32x4Mul().get(r).f32x4Add().f32x4Const(1).f32x4Add();
      b.get(n).f32x4Const(8388608 + 127).f32x4Add().i32Const(23).i32x4Shl().f32x4Mul();
    });
  }

  /** 1 / (1 + e^−x). */
  sigmoid(x: Local): Local {
    const e = this.exp(this.local(() => this.b.f32x4Const(0).get(x).f32x4Sub()));
    return this.local(() => this.b.f32x4Const(1).f32x4Const(1).get(e).f32x4Add().f32x4Div());
  }

  /** tanh x = 2·σ(2x) − 1. */
  tanh(x: Local): Local {
    const s = this.sigmoid(this.local(() => this.b.get(x).get(x).f32x4Add()));
    return this.local(() => this.b.get(s).get(s).f32x4Add().f32x4Const(1).f32x4Sub());
  }

  /** Runs `emit` (which leaves one v128 on the stack) and keeps its value. */
  local(emit: () => void): Local {
    emit();
    return this.result();
  }
}

/**
 * `for (i = start; i < end; i += step) body()` over i32 locals. `start` is a local or a
 * constant.
 */
export function forRange(b: FunctionBuilder, i: Local, start: Local | number, end: Local, step: number, body: () => void): void {
  if (typeof start === 'number') b.i32Const(start);
  else b.get(start);
  b.set(i).block().loop();
  b.get(i).get(end).i32GeU().brIf(1);
  body();
  b.get(i).i32Const(step).i32Add().set(i).br(0).end().end();
}

/**
 * The loops of a cell kernel: for each of `batch` rows, for each group of four units.
 * `body(row, at)` gets the row index and the byte offset of the group within a block of
 * `units` floats.
 */
export function forUnits(b: FunctionBuilder, batch: Local, units: Local, body: (row: Local, at: Local) => void): void {
  const row = b.local('i32');
  const at = b.local('i32');
  const bytes = product(b, units, 4);
  forRange(b, row, 0, batch, 1, () => forRange(b, at, 0, bytes, 16, () => body(row, at)));
}

/** i32 local = base + row · (floatsPerRow · 4) + at: the address of a group in row `row`. */
export function rowAddress(b: FunctionBuilder, base: Local, row: Local, floatsPerRow: Local, at: Local | number): Local {
  const out = b.local('i32');
  b.get(base).get(row).get(floatsPerRow).i32Mul().i32Const(4).i32Mul().i32Add();
  if (typeof at === 'number') b.i32Const(at);
  else b.get(at);
  b.i32Add().set(out);
  return out;
}
