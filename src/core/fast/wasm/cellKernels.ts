/**
 * SIMD twins of the cell kernels in cells/*.ts: the same formulas, four units at a time.
 * Pointers to per-step blocks of a time-major matrix (the projection, dL/dh) already point
 * at the step's first row; units must be a multiple of 4.
 */
import type { ExportedFunction, FunctionBuilder, Local } from './encoder';
import { forUnits, newFunction, product, rowAddress, sum } from './dsl';

/** Address of gate block `k` of a group: `address + k · gateBytes`. */
function gateAddress(b: FunctionBuilder, address: Local, gateBytes: Local, k: number): Local {
  return k === 0 ? address : sum(b, address, product(b, gateBytes, k));
}

/** lstm_step(xp, r, cPrev, h, c, act, tc, batch, units, keep): see cells/lstm.ts stepKernel. */
function lstmStep(): ExportedFunction {
  const { b, p, v } = newFunction(10);
  const [xp, r, cPrev, h, c, act, tc, batch, units, keep] = p;
  const width = product(b, units, 4); // floats per row of four gate blocks
  const gateBytes = product(b, units, 4);
  forUnits(b, batch, units, (row, at) => {
    const x0 = rowAddress(b, xp, row, width, at);
    const r0 = rowAddress(b, r, row, width, at);
    const pre = (k: number) => v.add(v.load(gateAddress(b, x0, gateBytes, k)), v.load(gateAddress(b, r0, gateBytes, k)));
    const i = v.sigmoid(pre(0));
    const f = v.sigmoid(pre(1));
    const g = v.tanh(pre(2));
    const o = v.sigmoid(pre(3));
    const cNew = v.mulAdd(f, v.load(rowAddress(b, cPrev, row, units, at)), v.mul(i, g));
    const tcNew = v.tanh(cNew);
    v.store(rowAddress(b, c, row, units, at), cNew);
    v.store(rowAddress(b, h, row, units, at), v.mul(o, tcNew));
    b.get(keep).if_();
    const a0 = rowAddress(b, act, row, width, at);
    [i, f, g, o].forEach((value, k) => v.store(gateAddress(b, a0, gateBytes, k), value));
    v.store(rowAddress(b, tc, row, units, at), tcNew);
    b.end();
  });
  return { name: 'lstm_step', builder: b };
}

/** lstm_back(dOut, dhNext, dcNext, act, tc, cPrev, dz, dcPrev, batch, units): see cells/lstm.ts backKernel. */
function lstmBack(): ExportedFunction {
  const { b, p, v } = newFunction(10);
  const [dOut, dhNext, dcNext, act, tc, cPrev, dz, dcPrev, batch, units] = p;
  const width = product(b, units, 4);
  const gateBytes = product(b, units, 4);
  const one = v.constant(1);
  forUnits(b, batch, units, (row, at) => {
    const state = (base: Local) => rowAddress(b, base, row, units, at);
    const a0 = rowAddress(b, act, row, width, at);
    const [i, f, g, o] = [0, 1, 2, 3].map((k) => v.load(gateAddress(b, a0, gateBytes, k)));
    const t = v.load(state(tc));
    const dh = v.add(v.load(state(dOut)), v.load(state(dhNext)));
    // dc = dcNext + dh·o·(1 − t²)
    const dc = v.mulAdd(v.mul(dh, o), v.sub(one, v.mul(t, t)), v.load(state(dcNext)));
    const z0 = rowAddress(b, dz, row, width, at);
    const gradients = [
      v.mul(v.mul(dc, g), v.mul(i, v.sub(one, i))),
      v.mul(v.mul(dc, v.load(state(cPrev))), v.mul(f, v.sub(one, f))),
      v.mul(v.mul(dc, i), v.sub(one, v.mul(g, g))),
      v.mul(v.mul(dh, t), v.mul(o, v.sub(one, o))),
    ];
    gradients.forEach((value, k) => v.store(gateAddress(b, z0, gateBytes, k), value));
    v.store(state(dcPrev), v.mul(dc, f));
  });
  return { name: 'lstm_back', builder: b };
}

/** gru_gates(xp, rzr, h, zr, rh, batch, units): see cells/gru.ts gatesKernel. */
function gruGates(): ExportedFunction {
  const { b, p, v } = newFunction(7);
  const [xp, rzr, h, zr, rh, batch, units] = p;
  const width = product(b, units, 3);
  const pair = product(b, units, 2);
  const gateBytes = product(b, units, 4);
  forUnits(b, batch, units, (row, at) => {
    const x0 = rowAddress(b, xp, row, width, at);
    const g0 = rowAddress(b, rzr, row, pair, at);
    const z = v.sigmoid(v.add(v.load(x0), v.load(g0)));
    const r = v.sigmoid(v.add(v.load(gateAddress(b, x0, gateBytes, 1)), v.load(gateAddress(b, g0, gateBytes, 1))));
    const out = rowAddress(b, zr, row, pair, at);
    v.store(out, z);
    v.store(gateAddress(b, out, gateBytes, 1), r);
    v.store(rowAddress(b, rh, row, units, at), v.mul(r, v.load(rowAddress(b, h, row, units, at))));
  });
  return { name: 'gru_gates', builder: b };
}

/** gru_output(xp, rrh, zr, h, hNew, candidate, batch, units, keep): see cells/gru.ts outputKernel. */
function gruOutput(): ExportedFunction {
  const { b, p, v } = newFunction(9);
  const [xp, rrh, zr, h, hNew, candidate, batch, units, keep] = p;
  const width = product(b, units, 3);
  const pair = product(b, units, 2);
  const gateBytes = product(b, units, 4);
  const one = v.constant(1);
  forUnits(b, batch, units, (row, at) => {
    const hh = v.tanh(v.add(v.load(gateAddress(b, rowAddress(b, xp, row, width, at), gateBytes, 2)), v.load(rowAddress(b, rrh, row, units, at))));
    const z = v.load(rowAddress(b, zr, row, pair, at));
    const hPrev = v.load(rowAddress(b, h, row, units, at));
    v.store(rowAddress(b, hNew, row, units, at), v.mulAdd(z, hPrev, v.mul(v.sub(one, z), hh)));
    b.get(keep).if_();
    v.store(rowAddress(b, candidate, row, units, at), hh);
    b.end();
  });
  return { name: 'gru_output', builder: b };
}

/** gru_back1(dOut, dhA, dhB, zr, candidate, dh, dPre, batch, units): see cells/gru.ts back1Kernel. */
function gruBack1(): ExportedFunction {
  const { b, p, v } = newFunction(9);
  const [dOut, dhA, dhB, zr, candidate, dh, dPre, batch, units] = p;
  const pair = product(b, units, 2);
  const one = v.constant(1);
  forUnits(b, batch, units, (row, at) => {
    const state = (base: Local) => rowAddress(b, base, row, units, at);
    const d = v.add(v.add(v.load(state(dOut)), v.load(state(dhA))), v.load(state(dhB)));
    const hh = v.load(state(candidate));
    const z = v.load(rowAddress(b, zr, row, pair, at));
    v.store(state(dh), d);
    v.store(state(dPre), v.mul(v.mul(d, v.sub(one, z)), v.sub(one, v.mul(hh, hh))));
  });
  return { name: 'gru_back1', builder: b };
}

/** gru_back2(dh, dPre, dRh, zr, candidate, h, dz, dzr, dhDirect, batch, units): see cells/gru.ts back2Kernel. */
function gruBack2(): ExportedFunction {
  const { b, p, v } = newFunction(11);
  const [dh, dPre, dRh, zr, candidate, h, dz, dzr, dhDirect, batch, units] = p;
  const width = product(b, units, 3);
  const pair = product(b, units, 2);
  const gateBytes = product(b, units, 4);
  const one = v.constant(1);
  forUnits(b, batch, units, (row, at) => {
    const state = (base: Local) => rowAddress(b, base, row, units, at);
    const g0 = rowAddress(b, zr, row, pair, at);
    const z = v.load(g0);
    const r = v.load(gateAddress(b, g0, gateBytes, 1));
    const hPrev = v.load(state(h));
    const d = v.load(state(dh));
    const dRhValue = v.load(state(dRh));
    const dzGate = v.mul(v.mul(d, v.sub(hPrev, v.load(state(candidate)))), v.mul(z, v.sub(one, z)));
    const drGate = v.mul(v.mul(dRhValue, hPrev), v.mul(r, v.sub(one, r)));
    const z0 = rowAddress(b, dz, row, width, at);
    v.store(z0, dzGate);
    v.store(gateAddress(b, z0, gateBytes, 1), drGate);
    v.store(gateAddress(b, z0, gateBytes, 2), v.load(state(dPre)));
    const p0 = rowAddress(b, dzr, row, pair, at);
    v.store(p0, dzGate);
    v.store(gateAddress(b, p0, gateBytes, 1), drGate);
    v.store(state(dhDirect), v.mulAdd(d, z, v.mul(dRhValue, r)));
  });
  return { name: 'gru_back2', builder: b };
}

/** rnn_step(xp, r, h, count): h = tanh(xp + r) over `count` floats (a multiple of 4). */
function rnnStep(): ExportedFunction {
  const { b, p, v } = newFunction(4);
  const [xp, r, h, count] = p;
  const one = b.local('i32');
  b.i32Const(1).set(one);
  forUnits(b, one, count, (_, at) => {
    v.store(sum(b, h, at), v.tanh(v.add(v.load(sum(b, xp, at)), v.load(sum(b, r, at)))));
  });
  return { name: 'rnn_step', builder: b };
}

/** rnn_back(dOut, dhNext, h, dz, count): dz = (dOut + dhNext)·(1 − h²). */
function rnnBack(): ExportedFunction {
  const { b, p, v } = newFunction(5);
  const [dOut, dhNext, h, dz, count] = p;
  const one = b.local('i32');
  b.i32Const(1).set(one);
  const ones = v.constant(1);
  forUnits(b, one, count, (_, at) => {
    const hi = v.load(sum(b, h, at));
    v.store(sum(b, dz, at), v.mul(v.add(v.load(sum(b, dOut, at)), v.load(sum(b, dhNext, at))), v.sub(ones, v.mul(hi, hi))));
  });
  return { name: 'rnn_back', builder: b };
}

export const CELL_FUNCTIONS = [lstmStep, lstmBack, gruGates, gruOutput, gruBack1, gruBack2, rnnStep, rnnBack];

export interface CellKernels {
  lstm_step(xp: number, r: number, cPrev: number, h: number, c: number, act: number, tc: number, batch: number, units: number, keep: number): void;
  lstm_back(dOut: number, dhNext: number, dcNext: number, act: number, tc: number, cPrev: number, dz: number, dcPrev: number, batch: number, units: number): void;
  gru_gates(xp: number, rzr: number, h: number, zr: number, rh: number, batch: number, units: number): void;
  gru_output(xp: number, rrh: number, zr: number, h: number, hNew: number, candidate: number, batch: number, units: number, keep: number): void;
  gru_back1(dOut: number, dhA: number, dhB: number, zr: number, candidate: number, dh: number, dPre: number, batch: number, units: number): void;
  gru_back2(dh: number, dPre: number, dRh: number, zr: number, candidate: number, h: number, dz: number, dzr: number, dhDirect: number, batch: number, units: number): void;
  rnn_step(xp: number, r: number, h: number, count: number): void;
  rnn_back(dOut: number, dhNext: number, h: number, dz: number, count: number): void;
}
