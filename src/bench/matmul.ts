/**
 * The backend's own matmul speed on a list of products: each shape timed alone as a plain
 * `tf.matMul(a, b)` on fixed operands (the kernel's best case: nothing transposed, the
 * right-hand side's packed form reused), then summed with the products' counts.
 */
import * as tf from '@tensorflow/tfjs';
import { flopsOf, type Product } from './flops';
import { median, timeMs } from './stats';

export interface MatmulRate {
  /** Time the products take at the kernel's own speed, ms per batch. */
  ms: number;
  gflops: number;
}

/**
 * Times the products; `measure()` can be called repeatedly (the benchmark does once per
 * round, between the engines' batches, so that the reference sees the same machine load).
 */
export class MatmulReference {
  private readonly shapes: { m: number; k: number; n: number; count: number; a: tf.Tensor; b: tf.Tensor }[];
  private readonly rounds: number[] = [];

  constructor(private readonly products: Product[]) {
    const counts = new Map<string, { m: number; k: number; n: number; count: number }>();
    for (const p of products) {
      const key = `${p.m}x${p.k}x${p.n}`;
      const entry = counts.get(key) ?? { m: p.m, k: p.k, n: p.n, count: 0 };
      entry.count += p.count;
      counts.set(key, entry);
    }
    this.shapes = [...counts.values()].map((s) => ({ ...s, a: tf.randomNormal([s.m, s.k]), b: tf.randomNormal([s.k, s.n]) }));
  }

  /** One timing of every shape (median of a few runs each, after a warm-up run). */
  measure(targetMsPerShape = 20): void {
    let total = 0;
    for (const { a, b, count } of this.shapes) {
      // wasm, cpu and tfjs-node run kernels synchronously: the product is done when matMul
      // returns (reading it back would add a copy the training step does not make).
      const once = () => tf.matMul(a, b).dispose();
      once();
      const estimate = Math.max(timeMs(once), 0.005);
      const samples = Array.from({ length: Math.min(100, Math.max(3, Math.round(targetMsPerShape / estimate))) }, () => timeMs(once));
      total += median(samples) * count;
    }
    this.rounds.push(total);
  }

  /** The median over the measurements so far. */
  rate(): MatmulRate {
    const ms = median(this.rounds);
    return { ms, gflops: flopsOf(this.products) / ms / 1e6 };
  }

  dispose(): void {
    tf.dispose(this.shapes.flatMap((s) => [s.a, s.b]));
  }
}

/** A large square product, the backend's headline rate. */
export function peakMatmulRate(size = 1024): MatmulRate {
  const reference = new MatmulReference([{ m: size, k: size, n: size, count: 1 }]);
  for (let i = 0; i < 3; i++) reference.measure(300);
  const rate = reference.rate();
  reference.dispose();
  return rate;
}
