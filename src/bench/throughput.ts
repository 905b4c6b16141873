/**
 * Stock against fast, on the same model, data and backend, interleaved in rounds (with a
 * timing of the reference matmuls in each) so that a neighbour's load on this shared
 * machine hits all three alike.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../core/dataset';
import type { Engine } from '../core/fast/engine';
import { scoreBatches } from '../core/scoring';
import { makeTrainer, type TrainSettings } from '../core/train';
import { flopsOf, type Product } from './flops';
import { MatmulReference } from './matmul';
import { median } from './stats';

export interface EngineFigures {
  msPerBatch: number;
  /**
   * CPU time of this thread per batch. Well below msPerBatch means the machine was busy
   * with other work and the wall-clock figures are pessimistic (for both engines alike).
   */
  cpuMsPerBatch: number;
  tokensPerSecond: number;
  gflops: number;
  /** Achieved GFLOP/s over the backend's matmul rate for the same products. */
  shareOfMatmul: number;
  batches: number;
}

export interface Comparison {
  stock: EngineFigures;
  fast: EngineFigures;
  /** fast tokens/s ÷ stock tokens/s. */
  speedup: number;
  /** The same from CPU time: less sensitive to other processes on a shared machine. */
  cpuSpeedup: number;
  /** FLOPs per batch (see flops.ts). */
  flopsPerBatch: number;
  /** The backend's matmul rate on this pass's products, GFLOP/s. */
  matmulGflops: number;
}

export interface Rounds {
  rounds: number;
  /** Batches per round and engine, after one warm-up batch each. */
  stockBatches: number;
  fastBatches: number;
}

/** Times `run(engine, batch)` for both engines and turns the medians into figures. */
async function compare(
  batches: Batch[],
  rounds: Rounds,
  products: Product[],
  run: (engine: Engine, batch: Batch) => unknown,
): Promise<Comparison> {
  const times: Record<Engine, number[]> = { stock: [], fast: [] };
  const cpu: Record<Engine, number[]> = { stock: [], fast: [] };
  const reference = new MatmulReference(products);
  try {
    let next = 0;
    const batch = () => batches[next++ % batches.length];
    for (const engine of ['stock', 'fast'] as const) await run(engine, batch());
    for (let r = 0; r < rounds.rounds; r++) {
      reference.measure();
      for (const engine of ['stock', 'fast'] as const) {
        const count = engine === 'stock' ? rounds.stockBatches : rounds.fastBatches;
        for (let i = 0; i < count; i++) {
          const b = batch();
          const start = performance.now();
          const startCpu = process.cpuUsage();
          await run(engine, b);
          const used = process.cpuUsage(startCpu);
          times[engine].push(performance.now() - start);
          cpu[engine].push((used.user + used.system) / 1000);
        }
      }
    }
  } finally {
    reference.dispose();
  }
  const tokens = batches[0].rows * batches[0].seqLen;
  const flops = flopsOf(products);
  const rate = reference.rate();
  const figures = (engine: Engine): EngineFigures => {
    const ms = median(times[engine]);
    const gflops = flops / ms / 1e6;
    return {
      msPerBatch: ms,
      cpuMsPerBatch: median(cpu[engine]),
      tokensPerSecond: (tokens / ms) * 1000,
      gflops,
      shareOfMatmul: gflops / rate.gflops,
      batches: times[engine].length,
    };
  };
  const stock = figures('stock');
  const fast = figures('fast');
  return {
    stock,
    fast,
    speedup: fast.tokensPerSecond / stock.tokensPerSecond,
    cpuSpeedup: stock.cpuMsPerBatch / fast.cpuMsPerBatch,
    flopsPerBatch: flops,
    matmulGflops: rate.gflops,
  };
}

/** Training steps (forward, backward, clipped Adam) of both engines on one model. */
export async function compareTraining(
  model: tf.LayersModel,
  settings: TrainSettings,
  batches: Batch[],
  rounds: Rounds,
  products: Product[],
): Promise<Comparison> {
  const trainers = { stock: makeTrainer(model, { ...settings, engine: 'stock' }), fast: makeTrainer(model, { ...settings, engine: 'fast' }) };
  try {
    return await compare(batches, rounds, products, (engine, batch) => trainers[engine].step(batch));
  } finally {
    trainers.stock.dispose();
    trainers.fast.dispose();
  }
}

/** The validation pass (inference, loss and accuracy) of both engines. */
export function compareInference(model: tf.LayersModel, batches: Batch[], rounds: Rounds, products: Product[]): Promise<Comparison> {
  return compare(batches, rounds, products, (engine, batch) => scoreBatches(model, [batch], false, engine));
}
