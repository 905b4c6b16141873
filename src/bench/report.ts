/** The benchmark report as tables for a terminal (JSON is the report object itself). */
import { formatTable } from '../cli/table';
import type { CellType } from '../protocol/types';
import type { BenchReport } from './index';
import type { Comparison, EngineFigures } from './throughput';

const int = (x: number) => Math.round(x).toLocaleString('en');
const fixed = (x: number, digits = 1) => x.toFixed(digits);
const pct = (x: number) => `${Math.round(x * 100)}%`;

function comparisonTable(rows: Record<CellType, Comparison>): string {
  const line = (cell: string, engine: string, f: EngineFigures, c: Comparison, speedup: string) => [
    cell,
    engine,
    int(f.tokensPerSecond),
    fixed(f.msPerBatch),
    fixed(f.cpuMsPerBatch),
    fixed(f.gflops, 2),
    fixed(c.matmulGflops),
    pct(f.shareOfMatmul),
    speedup,
  ];
  return formatTable(
    ['cell', 'engine', 'tokens/s', 'ms/batch', 'cpu ms', 'GFLOP/s', 'matmul GFLOP/s', 'share', 'speedup'],
    Object.entries(rows).flatMap(([cell, c]) => [
      line(cell, 'stock', c.stock, c, ''),
      line('', 'fast', c.fast, c, `${fixed(c.speedup)}× (cpu ${fixed(c.cpuSpeedup)}×)`),
    ]),
  );
}

export function formatReport(r: BenchReport): string {
  const m = r.machine;
  const s = r.shape;
  const tokens = s.batch * s.seqLen;
  const out: string[] = [];
  out.push(
    `SeqLab bench, ${r.date.slice(0, 10)}: ${m.cpu} (${m.cores} cores, ${fixed(m.memoryGiB, 0)} GiB), ${m.os}, ` +
      `Node ${m.node}, TF.js ${m.tfjs}, backend ${m.backend}, SeqLab ${m.seqlab}; fast path: ${r.fastPath}`,
    `Sizes: Embedding ${s.embedding} → ${s.layers} × ${s.units} units → Dense ${int(s.vocabSize)} words; windows of ${s.seqLen}, ` +
      `batches of ${s.batch} (${int(tokens)} target tokens). Backend matmul peak (1024³): ${fixed(r.peakMatmulGflops)} GFLOP/s.`,
    '',
    'Training step (forward, backward, clipped Adam), median per batch:',
    comparisonTable(r.training),
    '',
    'Validation pass (inference, loss and accuracy), median per batch:',
    comparisonTable(r.inference),
    '',
    `Suggestions${r.suggestions.backend ? ` (backend ${r.suggestions.backend}, where the extension suggests)` : ''}: ${r.suggestions.cell.toUpperCase()} ${r.suggestions.units}, ` +
      `${r.suggestions.weights} weights, a suggestion at every keystroke typing a chapter (ms in the engine):`,
    formatTable(
      ['vocabulary', 'words', 'requests', 'p50', 'p95', 'p99', 'max', 'mean', 'full passes', 'tokens read', 'adapting'],
      r.suggestions.latency.map((l) => [
        int(l.vocabSize ?? r.suggestions.vocabSize),
        String(l.words),
        String(l.requests),
        fixed(l.p50, 2),
        fixed(l.p95, 2),
        fixed(l.p99, 2),
        fixed(l.max, 1),
        fixed(l.mean, 2),
        String(l.fullPasses),
        int(l.tokensRead),
        // Reports saved before adaptation have no count: their network never adapted.
        l.adaptationSteps ? `${l.adaptationSteps} steps, ${fixed(l.stepMedian ?? NaN)} ms (max ${fixed(l.stepMax ?? NaN)})` : 'no',
      ]),
    ),
    '',
    `Memory: peak RSS ${int(r.memory.peakRssMiB)} MiB training ${r.memory.batches} of ${r.memory.batchesPerEpoch} batches per epoch ` +
      `on all of Moby Dick (${int(r.memory.trainTokens)} training tokens, vocabulary ${int(r.memory.vocabSize)}, default settings) ` +
      `and one validation pass (${int(r.memory.validationTokens)} tokens); fast training ran at ${int(r.memory.tokensPerSecond)} tokens/s there.`,
  );
  out.push(
    '',
    'GFLOP/s counts 2 × the multiply-adds of the model\'s matrix products (training: 3 × forward, each product plus its',
    'input and weight gradients); "matmul GFLOP/s" is the backend\'s own tf.matMul on exactly those shapes, timed alone;',
    `"share" is GFLOP/s over it. "cpu ms" is this thread's CPU time per batch: well below ms/batch means other`,
    `processes held the cores, slowing both engines. Medians; batches are interleaved stock/fast. Bench time ${fixed(r.seconds, 0)} s.`,
  );
  return out.join('\n');
}
