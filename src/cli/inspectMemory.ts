/**
 * `seqlab inspect memory RUN... [--text FILE] [--out DIR] [--json]`: memory through time
 * for scripts. For each run, on its own validation text (or FILE): the gradient norm by
 * lag and the loss by context length (core/inspect/memory.ts). Writes memory.json and
 * memory.svg (both curves, runs overlaid).
 */
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { UserError } from '../core/errors';
import { MEMORY_METHOD, measureMemory } from '../core/inspect/memory';
import { readCorpus } from '../core/input';
import { modelParts } from '../core/model';
import { cellName } from '../protocol/format';
import type { MemoryReport, MemoryRun } from '../protocol/memory';
import type { ParsedArgs } from './args';
import { heldOutText, type CommandIO } from './commands';
import { initInspectBackend, withRun } from './inspectRun';
import { memoryRunLabels, memorySvg } from './memorySvg';
import { formatTable } from './table';

export async function inspectMemoryView(args: ParsedArgs, io: CommandIO): Promise<void> {
  const dirs = args.positionals;
  if (dirs.length === 0) throw new UserError('Name at least one run folder, e.g. seqlab inspect memory runs/RUN1 runs/RUN2.');
  const textFile = args.flags.text;
  if (textFile !== undefined && typeof textFile !== 'string') throw new UserError('--text FILE names the held-out text to measure on.');
  const given = textFile ? { text: (await readCorpus([textFile])).text, name: nodePath.basename(textFile) } : undefined;
  await initInspectBackend(args);
  const measured: Omit<MemoryRun, 'label'>[] = [];
  for (const dir of dirs) {
    await withRun(dir, async (run) => {
      const text = given ?? { text: await heldOutText(run), name: `the run's validation text` };
      const started = Date.now();
      const curves = await measureMemory(run.model, run.tokenizer.encode(text.text));
      const parts = modelParts(run.model);
      measured.push({ run: nodePath.basename(nodePath.resolve(dir)), cell: parts.cell, units: parts.units, layers: parts.recurrent.length, text: text.name, ...curves });
      if (!args.flags.json) io.stderr.write(`${cellName(parts.cell)} ${dir}: measured in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    });
  }
  const labels = memoryRunLabels(measured);
  const report: MemoryReport = { method: MEMORY_METHOD, runs: measured.map((run, i) => ({ label: labels[i], ...run })) };
  const out = typeof args.flags.out === 'string' ? args.flags.out : '.';
  await fs.mkdir(out, { recursive: true });
  const files = [nodePath.join(out, 'memory.json'), nodePath.join(out, 'memory.svg')];
  await fs.writeFile(files[0], JSON.stringify(report, null, 1) + '\n');
  await fs.writeFile(files[1], memorySvg(report.runs));
  if (args.flags.json) {
    io.stdout.write(JSON.stringify({ files, ...report }) + '\n');
    return;
  }
  io.stdout.write(summaryTable(report.runs) + `\nWrote ${files.join(' and ')}.\n`);
}

/** Per run: the gradient norm at a few lags and the loss at each context length. */
function summaryTable(runs: MemoryRun[]): string {
  const lags = [1, 4, 16, 64];
  const contexts = runs[0].context.contexts;
  const norm = (run: MemoryRun, k: number) => {
    const j = run.gradient.lags.indexOf(k);
    return j < 0 ? '' : run.gradient.geometricMean[j].toExponential(1);
  };
  const gradientRows = runs.map((run) => [run.label, ...lags.map((k) => norm(run, k))]);
  // What one token of context costs against all the text, ± its paired standard error.
  const firstGap = (run: MemoryRun) => `${(run.context.loss[0] - run.context.fullContextLoss).toFixed(3)} ± ${run.context.gapStandardError[0].toFixed(3)}`;
  const contextRows = runs.map((run) => [run.label, ...run.context.loss.map((l) => l.toFixed(2)), run.context.fullContextLoss.toFixed(2), firstGap(run)]);
  return (
    `Gradient norm ‖dL_t/dh_(t−k)‖, geometric mean over ${runs[0].gradient.windows} held-out windows:\n` +
    formatTable(['run', ...lags.map((k) => `k=${k}`)], gradientRows) +
    `\n\nHeld-out loss (nats per token) of ${runs[0].context.positions} targets with n tokens of context, and with all the text before them:\n` +
    formatTable(['run', ...contexts.map((n) => `n=${n}`), 'all', `n=${contexts[0]} − all`], contextRows) +
    '\n'
  );
}
