/** Small models with lively weights for the inspection tests: every gate and every step matters. */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { buildModel, type ModelShape } from '../../src/core/model';
import { Random } from '../../src/core/random';
import type { CellType } from '../../src/protocol/types';

/** A tiny model of `cell` whose weights are drawn at scale `scale`, far from the near-zero start of training. */
export function livelyModel(cell: CellType, options: { layers?: number; units?: number; vocab?: number; scale?: number; seed?: number; dropout?: number } = {}): tf.LayersModel {
  const seed = options.seed ?? 7;
  const shape: ModelShape = { cell, vocabSize: options.vocab ?? 23, embedding: 6, units: options.units ?? 8, layers: options.layers ?? 1, dropout: options.dropout ?? 0 };
  const model = buildModel(shape, seed);
  const drawn = model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, options.scale ?? 0.6, 'float32', seed * 31 + i));
  model.setWeights(drawn);
  tf.dispose(drawn);
  return model;
}

/** `count` token ids below `vocab`, repeatable. */
export function randomIds(vocab: number, count: number, seed: number): Int32Array {
  const random = new Random(seed);
  return Int32Array.from({ length: count }, () => random.int(vocab));
}

/** Asserts that two arrays agree element by element within `tolerance`, naming the worst element if not. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: lengths differ`);
  let worst = 0;
  for (let i = 1; i < actual.length; i++) if (Math.abs(actual[i] - expected[i]) > Math.abs(actual[worst] - expected[worst])) worst = i;
  const gap = actual.length ? Math.abs(actual[worst] - expected[worst]) : 0;
  assert.ok(gap <= tolerance, `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (±${tolerance})`);
}
