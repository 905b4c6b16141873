/**
 * `seqlab bench --scaling`: one run's training step on 1, 2 and 4 threads (data-parallel,
 * core/parallel), and on a sampled softmax (fast/candidates.ts) where the vocabulary is
 * large, interleaved in rounds so that a neighbour's load hits every variant alike; and
 * how far the weights of the threaded runs end from the one-thread run's after the same
 * batches. A program that prints figures; on wasm or cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendPreference } from '../core/backend';
import type { Batch } from '../core/dataset';
import { DEFAULT_TRAIN_CONFIG } from '../core/config';
import { sampledWords } from '../core/fast/candidates';
import { buildModel, startAtUnigram } from '../core/model';
import { ParallelTrainer } from '../core/parallel/trainer';
import { Random } from '../core/random';
import { makeTrainer } from '../core/train';
import type { StepShape } from './backends';
import { describeMachine, type MachineFigures } from './machine';
import { median } from './stats';

interface ThreadShape extends StepShape {
  dropout: number;
  inputDropout: number;
}

/** What is timed: threads, and words scored besides the targets (0 = the full softmax). */
interface Variant {
  threads: number;
  samples: number;
  /**
   * false: each thread trains on its lanes alone, nothing exchanged (ParallelTrainer.
   * stepWithoutExchange): the split step's work side by side on the cores, the most that
   * splitting a step could give on this machine.
   */
  exchange?: boolean;
}
/** The default: what a run of that vocabulary trains with. */
const SAMPLES = DEFAULT_TRAIN_CONFIG.softmaxSamples;
const VARIANTS: Variant[] = [
  { threads: 1, samples: 0 },
  { threads: 2, samples: 0 },
  { threads: 2, samples: 0, exchange: false },
  { threads: 4, samples: 0 },
  { threads: 1, samples: SAMPLES },
  { threads: 2, samples: SAMPLES },
];
const label = (v: Variant) => `${v.threads} thread${v.threads > 1 ? 's' : ''}${v.samples ? `, sampled ${v.samples}` : ''}${v.exchange === false ? ', no exchange' : ''}`;
const sameVariant = (a: Variant, b: Variant) => a.threads === b.threads && a.samples === b.samples && (a.exchange ?? true) === (b.exchange ?? true);
const REFERENCE = { embedding: 64, units: 128, batch: 32, seqLen: 32, dropout: 0, inputDropout: 0 };
const SHAPES: ThreadShape[] = [
  ...(['rnn', 'gru', 'lstm'] as const).map((cell) => ({ ...REFERENCE, cell, vocab: 1000, label: 'reference' })),
  { ...REFERENCE, cell: 'lstm', vocab: 10000, label: 'reference, large vocabulary' },
  ...[3000, 10000].map((vocab) => ({ cell: 'lstm' as const, vocab, embedding: 128, units: 128, batch: 8, seqLen: 32, dropout: 0.5, inputDropout: 0.3, label: 'training defaults (tied, dropout, 8 lanes)' })),
];

export interface ThreadTiming extends Variant {
  /** Wall-clock milliseconds per step (median). */
  ms: number;
  /** CPU milliseconds per step of the whole process, every thread. */
  cpuMs: number;
  tokensPerSecond: number;
  /** Largest |w − w₁| over every weight after the same batches as the one-thread run (0 for it; none for a sampled softmax, which trains on another objective). */
  maxWeightDifference: number | null;
}

export interface ThreadsRow {
  shape: ThreadShape;
  timings: ThreadTiming[];
}

export interface ThreadsReport {
  date: string;
  machine: MachineFigures;
  backend: string;
  rows: ThreadsRow[];
  seconds: number;
}

export async function runThreadsBench(options: { backend: BackendPreference; quick: boolean; progress: (line: string) => void }): Promise<ThreadsReport> {
  const started = performance.now();
  const backend = await initBackend(options.backend === 'auto' ? 'wasm' : options.backend);
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`bench --scaling measures the wasm and cpu backends, not ${backend}.`);
  const rounds = options.quick ? 2 : 5;
  const stepsPerRound = options.quick ? 2 : 3;
  const rows: ThreadsRow[] = [];
  for (const shape of SHAPES) {
    options.progress(`${shape.cell}, vocabulary ${shape.vocab}, ${shape.batch} lanes`);
    rows.push({ shape, timings: await timeThreads(shape, rounds, stepsPerRound) });
  }
  return { date: new Date().toISOString(), machine: describeMachine(), backend, rows, seconds: (performance.now() - started) / 1000 };
}

async function timeThreads(shape: ThreadShape, rounds: number, stepsPerRound: number): Promise<ThreadTiming[]> {
  const random = new Random(7);
  const ids = () => Int32Array.from({ length: shape.batch * shape.seqLen }, () => random.int(shape.vocab));
  const batches: Batch[] = Array.from({ length: 8 }, (_, i) => ({ inputs: ids(), targets: ids(), rows: shape.batch, seqLen: shape.seqLen, continues: i % 8 !== 0 }));
  const counts = new Float64Array(shape.vocab);
  for (const b of batches) for (const id of b.targets) counts[id]++;
  // A sampled softmax where a run would train on one.
  const variants = VARIANTS.filter((v) => v.samples === 0 || sampledWords(v.samples, shape.vocab) > 0);
  const runs = variants.map(({ threads, samples, exchange }) => {
    const model = buildModel({ cell: shape.cell, vocabSize: shape.vocab, embedding: shape.embedding, units: shape.units, layers: 1, dropout: shape.dropout, inputDropout: shape.inputDropout }, 1);
    startAtUnigram(model, batches[0].targets);
    const tieWeights = shape.embedding === shape.units;
    const settings = { learningRate: 3e-3, clipNorm: 5, seed: 1, tieWeights, sampledSoftmax: samples ? { samples, counts } : undefined };
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const trainer = threads === 1 ? makeTrainer(model, { ...settings, engine: 'fast', epochs: 1, batch: shape.batch, patience: 0 }) : new ParallelTrainer(model, variables, settings, threads);
    const step = (batch: Batch) => (exchange === false && trainer instanceof ParallelTrainer ? trainer.stepWithoutExchange(batch) : trainer.step(batch));
    return { threads, samples, exchange, model, variables, trainer, step, next: 0, wall: [] as number[], cpu: [] as number[] };
  });
  try {
    const step = async (run: (typeof runs)[number]) => run.step(batches[run.next++ % batches.length]);
    for (const run of runs) for (let i = 0; i < 2; i++) await step(run); // warm-up: kernels, threads
    for (let r = 0; r < rounds; r++) {
      for (const run of runs) {
        for (let i = 0; i < stepsPerRound; i++) {
          const start = performance.now();
          const startCpu = process.cpuUsage();
          await step(run);
          const used = process.cpuUsage(startCpu);
          run.wall.push(performance.now() - start);
          run.cpu.push((used.user + used.system) / 1000);
        }
      }
    }
    const reference = runs[0].variables.map((v) => v.dataSync());
    return runs.map((run) => {
      const ms = median(run.wall);
      let difference = 0;
      run.variables.forEach((v, i) => v.dataSync().forEach((x, j) => (difference = Math.max(difference, Math.abs(x - reference[i][j])))));
      const tokensPerSecond = ((shape.batch * shape.seqLen) / ms) * 1000;
      // The copies of a run without exchange part ways: their weights are not the one-thread run's.
      const comparable = run.samples === 0 && run.exchange !== false;
      return { threads: run.threads, samples: run.samples, exchange: run.exchange, ms, cpuMs: median(run.cpu), tokensPerSecond, maxWeightDifference: comparable ? difference : null };
    });
  } finally {
    for (const run of runs) {
      run.trainer.dispose();
      run.model.dispose();
    }
  }
}

export function formatThreadsReport(report: ThreadsReport): string {
  const header = ['cell', 'vocab', 'lanes', ...VARIANTS.map(label), 'max |Δw|, 2 threads', 'shape'];
  const body = report.rows.map(({ shape, timings }) => {
    const one = timings[0];
    const two = timings.find((t) => sameVariant(t, { threads: 2, samples: 0 }));
    const cell = (v: Variant) => {
      const t = timings.find((x) => sameVariant(x, v));
      if (!t) return '–';
      return t === one ? `${t.ms.toFixed(1)} ms` : `${t.ms.toFixed(1)} ms ${(one.ms / t.ms).toFixed(2)}×`;
    };
    return [shape.cell, shape.vocab.toLocaleString('en-US'), String(shape.batch), ...VARIANTS.map(cell), two?.maxWeightDifference?.toExponential(1) ?? '–', shape.label];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const { machine } = report;
  return [
    `SeqLab bench --scaling, ${report.date.slice(0, 10)}: ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, backend ${report.backend}`,
    "One run's training step: wall milliseconds per step (median) and speed against 1 thread on the full softmax, with the",
    `step split between threads (data-parallel) and on a sampled softmax of ${SAMPLES} words besides the targets (where a run`,
    'would train on one); max |Δw| = largest difference of any weight between 2 threads and 1 after the same batches.',
    '"no exchange": each thread trains its own copy on its lanes and nothing is summed or sent, so the copies part ways:',
    "the split step's work alone, side by side on the cores, the most that splitting a step could give on this machine.",
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    `Bench time ${report.seconds.toFixed(0)} s.`,
  ].join('\n');
}
