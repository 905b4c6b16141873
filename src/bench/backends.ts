/**
 * `seqlab bench --backends`: SeqLab's fast path on every backend that loads, against Keras
 * and PyTorch training the same model on the same machine (when a Python with them is
 * given), in milliseconds per training step. A program that prints figures.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, nativeKernels, nativeVersion, type BackendName } from '../core/backend';
import type { Batch } from '../core/dataset';
import { buildModel } from '../core/model';
import { Random } from '../core/random';
import { DEFAULT_TRAIN_CONFIG } from '../core/config';
import { sampledWords } from '../core/fast/candidates';
import { makeTrainer, wordCounts } from '../core/train';
import type { CellType } from '../protocol/types';
import { describeMachine, type MachineFigures } from './machine';
import { median } from './stats';

export interface StepShape {
  cell: CellType;
  vocab: number;
  embedding: number;
  units: number;
  batch: number;
  seqLen: number;
  /** What this row stands for. */
  label: string;
}

export interface StepTime {
  /** Wall-clock milliseconds per training step (median). */
  ms: number;
  /** CPU milliseconds per step, all threads: above `ms` when more than one core works. */
  cpuMs: number;
}

export interface BackendsRow {
  shape: StepShape;
  /** SeqLab's fast path per backend, and the peers, by name; a string says why one is missing. */
  times: Record<string, StepTime | string>;
}

export interface BackendsReport {
  date: string;
  machine: MachineFigures;
  /** Threads of native TensorFlow and the peers (SeqLab on wasm trains on one); absent: each framework's default. */
  threads?: number;
  rows: BackendsRow[];
  /** The Python that ran the peers, or why they did not run. */
  peers: string;
  /** Native TensorFlow's version and kernels, where it loaded. */
  native?: string;
}

/** The speed issue's reference model (Embedding 64 → 128 units → Dense, 32 windows of 32) and today's defaults. */
const REFERENCE = { embedding: 64, units: 128, batch: 32, seqLen: 32 };
const SHAPES: StepShape[] = [
  ...(['rnn', 'gru', 'lstm'] as const).map((cell) => ({ ...REFERENCE, cell, vocab: 1000, label: 'reference' })),
  ...(['rnn', 'gru', 'lstm'] as const).map((cell) => ({ ...REFERENCE, cell, vocab: 10000, label: 'reference, large vocabulary' })),
  { cell: 'lstm', vocab: 1000, embedding: 128, units: 128, batch: 8, seqLen: 32, label: 'training defaults (8 lanes)' },
];
const BACKENDS: BackendName[] = ['wasm', 'tensorflow'];
const PEERS = ['keras', 'pytorch'] as const;
/**
 * Where a run would train on a sampled softmax (a vocabulary over twice this), SeqLab is
 * also timed so, in a column of its own: the saved model is the same full softmax, and the
 * peers train on theirs.
 */
const SOFTMAX_SAMPLES = DEFAULT_TRAIN_CONFIG.softmaxSamples;
const sampledColumn = (backend: BackendName) => `${backend}, sampled ${SOFTMAX_SAMPLES}`;

export interface BackendsOptions {
  quick: boolean;
  /** A Python with tensorflow (Keras) and torch; none: the peers are skipped. */
  python?: string;
  /** Threads for native TensorFlow and the peers; none: each framework's default (every core). */
  threads?: number;
  progress: (line: string) => void;
}

/**
 * The environment that holds TensorFlow (in Node and in Python) and PyTorch to `threads`
 * threads: for their products (intra-op) and, for TensorFlow's graph executor, for running
 * independent ops side by side (inter-op). Both read these when they start.
 */
function threadEnvironment(threads: number | undefined): Record<string, string> {
  return threads ? { TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: String(threads), OMP_NUM_THREADS: String(threads) } : {};
}

export async function runBackendsBench(options: BackendsOptions): Promise<BackendsReport> {
  const steps = options.quick ? 4 : 12;
  // Before the tensorflow backend loads, which is when TensorFlow sizes its thread pool.
  Object.assign(process.env, threadEnvironment(options.threads));
  const rows: BackendsRow[] = SHAPES.map((shape) => ({ shape, times: {} }));
  for (const backend of BACKENDS) {
    const failure = await initBackend(backend).then(
      () => undefined,
      (error: Error) => error.message,
    );
    for (const row of rows) {
      if (failure) {
        row.times[backend] = failure;
        continue;
      }
      options.progress(`${backend}: ${row.shape.cell}, vocabulary ${row.shape.vocab}, batch ${row.shape.batch}`);
      row.times[backend] = timeFastPath(row.shape, steps, 0);
      if (sampledWords(SOFTMAX_SAMPLES, row.shape.vocab) > 0) row.times[sampledColumn(backend)] = timeFastPath(row.shape, steps, SOFTMAX_SAMPLES);
    }
  }
  const peers = options.python ? runPeers(options.python, rows, steps, options.threads, options.progress) : 'not run (give --python with tensorflow and torch installed)';
  const version = nativeVersion();
  const native = version && `TensorFlow ${version}, ${nativeKernels()}`;
  return { date: new Date().toISOString(), machine: describeMachine(), threads: options.threads, rows, peers, ...(native ? { native } : {}) };
}

/** Training steps of the shape's model on the active backend, on the full softmax or on `samples` drawn words. */
function timeFastPath(shape: StepShape, steps: number, samples: number): StepTime {
  const model = buildModel({ cell: shape.cell, vocabSize: shape.vocab, embedding: shape.embedding, units: shape.units, layers: 1, dropout: 0 }, 1);
  const random = new Random(7);
  const ids = () => Int32Array.from({ length: shape.batch * shape.seqLen }, () => random.int(shape.vocab));
  const batches: Batch[] = Array.from({ length: 4 }, () => ({ inputs: ids(), targets: ids(), rows: shape.batch, seqLen: shape.seqLen }));
  const sampledSoftmax = samples > 0 ? { samples, counts: wordCounts(Int32Array.from(batches.flatMap((b) => [...b.targets])), shape.vocab) } : undefined;
  const trainer = makeTrainer(model, { engine: 'fast', epochs: 1, batch: shape.batch, patience: 0, learningRate: 1e-3, clipNorm: 5, seed: 1, sampledSoftmax });
  try {
    for (let i = 0; i < 3; i++) trainer.step(batches[i % batches.length]);
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      const startCpu = process.cpuUsage();
      trainer.step(batches[i % batches.length]);
      const used = process.cpuUsage(startCpu);
      wall.push(performance.now() - start);
      cpu.push((used.user + used.system) / 1000);
    }
    return { ms: median(wall), cpuMs: median(cpu) };
  } finally {
    trainer.dispose();
    model.dispose();
    tf.disposeVariables();
  }
}

/** Runs src/bench/peers/step_time.py once per framework and reads its JSON lines. */
function runPeers(python: string, rows: BackendsRow[], steps: number, threads: number | undefined, progress: (line: string) => void): string {
  const script = path.resolve(__dirname, '..', 'src', 'bench', 'peers', 'step_time.py');
  for (const framework of PEERS) {
    progress(`${framework}: ${rows.length} shapes`);
    const configs = rows.map(({ shape }) => ({ framework: framework === 'pytorch' ? 'torch' : framework, cell: shape.cell, vocab: shape.vocab, embedding: shape.embedding, units: shape.units, batch: shape.batch, seq_len: shape.seqLen, steps }));
    const result = spawnSync(python, [script, JSON.stringify(configs)], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
      // DESIGN.md §3: fresh memory is slow on these VMs and PyTorch spins idle threads.
      env: { ...process.env, MALLOC_MMAP_MAX_: '0', OMP_WAIT_POLICY: 'PASSIVE', ...threadEnvironment(threads) },
    });
    if (result.error || result.status !== 0) {
      const reason = result.error?.message ?? result.stderr.trim().split('\n').at(-1) ?? `exit code ${result.status}`;
      rows.forEach((row) => (row.times[framework] = `could not run: ${reason}`));
      continue;
    }
    const lines = result.stdout.trim().split('\n').filter((line) => line.startsWith('{'));
    rows.forEach((row, i) => {
      const parsed = lines[i] ? (JSON.parse(lines[i]) as { ms?: number; cpu_ms?: number; error?: string }) : { error: 'no answer' };
      row.times[framework] = parsed.error ?? { ms: parsed.ms!, cpuMs: parsed.cpu_ms! };
    });
  }
  return python;
}

/** The report as a table: ms per step, and each column's speed against SeqLab on wasm. */
export function formatBackendsReport(report: BackendsReport): string {
  const columns = [...BACKENDS, ...BACKENDS.map(sampledColumn), ...PEERS];
  const cell = (time: StepTime | string | undefined, wasm: StepTime | string | undefined) => {
    if (time === undefined) return '–';
    if (typeof time === 'string') return 'n/a';
    const ratio = wasm && typeof wasm !== 'string' ? ` (${(wasm.ms / time.ms).toFixed(1)}×)` : '';
    return `${time.ms.toFixed(0)} ms${ratio}`;
  };
  const header = ['cell', 'vocab', 'batch', 'shape', ...columns.map((c) => ((PEERS as readonly string[]).includes(c) ? c : `SeqLab ${c}`))];
  const body = report.rows.map((row) => [row.shape.cell, String(row.shape.vocab), String(row.shape.batch), row.shape.label, ...columns.map((c) => cell(row.times[c], row.times.wasm))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const missing = report.rows
    .flatMap((row) => Object.entries(row.times).filter(([, t]) => typeof t === 'string').map(([name, t]) => `${name}: ${t}`))
    .filter((note, i, all) => all.indexOf(note) === i);
  const { machine } = report;
  return [
    `SeqLab bench --backends${report.threads ? ` --threads ${report.threads}` : ''}, ${report.date.slice(0, 10)}: ${machine.cpu} (${machine.cores} cores), Node ${machine.node}`,
    `Milliseconds of wall time per training step (median), ${
      report.threads ? `native TensorFlow and the peers on ${report.threads} thread${report.threads > 1 ? 's' : ''}, SeqLab on wasm on one` : 'every framework with its default threads'
    }; (n×) = speed against SeqLab on wasm.`,
    `"sampled ${SOFTMAX_SAMPLES}": SeqLab training as a run of that vocabulary does, on a sampled softmax (the saved model is the full softmax; the peers train on theirs).`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    ...(report.native ? [`Native: ${report.native}.`] : []),
    `Peers: ${report.peers}.`,
    ...missing.map((note) => `  ${note}`),
  ].join('\n');
}
