/**
 * `seqlab inspect cells --model DIR FILE [--unit N] [--gate NAME] [--out DIR] [--json]`:
 * the cell inspector for scripts. Reads FILE (its first MAX_SPAN_TOKENS tokens) with the
 * run's model, ranks the units by correlation with the text features over the run's
 * validation text (or FILE when that cannot be read), and writes cells.json (the ranking
 * and the chosen unit's value at each token) and cells.svg (its heat map over the words).
 */
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { UserError } from '../core/errors';
import { inspectCells, MAX_SPAN_TOKENS, rankModelUnits } from '../core/inspect/cells';
import { rankingText } from '../core/inspect/rankingText';
import { CELL_SIGNALS, FEATURE_LABELS, TEXT_FEATURES, unitValues, type CellInspection, type CellSignal } from '../protocol/cells';
import type { ParsedArgs } from './args';
import { cellsSvg } from './cellsSvg';
import type { CommandIO } from './commands';
import { withRunOnFile } from './inspectRun';
import { formatTable } from './table';

export async function inspectCellsView(args: ParsedArgs, io: CommandIO): Promise<void> {
  const usage = {
    noModel: '--model DIR names the run folder to inspect.',
    notOneFile: 'Name one text file to inspect, e.g. seqlab inspect cells --model runs/RUN chapter.txt.',
  };
  await withRunOnFile(args, usage, async ({ dir, run, file, text }) => {
    const spans = run.tokenizer.tokenSpans(text);
    const spanEnd = spans.length > MAX_SPAN_TOKENS ? spans[MAX_SPAN_TOKENS - 1].end : text.length;
    if (spanEnd < text.length) io.stderr.write(`Inspecting the first ${MAX_SPAN_TOKENS} tokens of ${spans.length}.\n`);
    const ranked = await rankModelUnits(run.model, run.tokenizer, await rankingText(run.record, { text, name: nodePath.basename(file) }));
    const inspection = await inspectCells({ runId: run.record.id, model: run.model, tokenizer: run.tokenizer, text, spanStart: 0, spanEnd, ranked });
    const signal = chosenSignal(args.flags.gate, inspection);
    const unit = chosenUnit(args.flags.unit, inspection, signal);
    const values = unitValues(inspection, signal, unit);
    const out = typeof args.flags.out === 'string' ? args.flags.out : '.';
    await fs.mkdir(out, { recursive: true });
    const files = [nodePath.join(out, 'cells.json'), nodePath.join(out, 'cells.svg')];
    const report = {
      run: dir,
      cell: inspection.cell,
      units: inspection.units,
      layer: inspection.layer,
      signal,
      unit,
      rankedOn: inspection.rankedOn,
      ranking: inspection.ranking,
      tokens: inspection.tokens.map((t, i) => ({ token: t.token, value: values[i] })),
    };
    await fs.writeFile(files[0], JSON.stringify(report, null, 1) + '\n');
    await fs.writeFile(files[1], cellsSvg(inspection, values, { signal, unit, runName: nodePath.basename(nodePath.resolve(dir)) }));
    if (args.flags.json) {
      io.stdout.write(JSON.stringify({ files, signal, unit, rankedOn: inspection.rankedOn, ranking: inspection.ranking[signal] }) + '\n');
      return;
    }
    io.stdout.write(rankingTable(inspection, signal) + `\nWrote ${files.join(' and ')} (unit ${unit}, ${signal}).\n`);
  });
}

/** --gate: one of the cell's signals (h by default). */
function chosenSignal(flag: unknown, inspection: CellInspection): CellSignal {
  const signals = CELL_SIGNALS[inspection.cell];
  if (flag === undefined) return 'h';
  if (typeof flag !== 'string' || !(signals as readonly string[]).includes(flag)) {
    throw new UserError(`--gate for this ${inspection.cell.toUpperCase()} is one of ${signals.join(', ')}, not "${String(flag)}".`);
  }
  return flag as CellSignal;
}

/** --unit: a unit of the layer; by default the one that follows some feature most closely. */
function chosenUnit(flag: unknown, inspection: CellInspection, signal: CellSignal): number {
  if (flag === undefined) {
    const best = Object.values(inspection.ranking[signal] ?? {})
      .flat()
      .sort((a, b) => Math.abs(b.r) - Math.abs(a.r))[0];
    return best?.unit ?? 0;
  }
  if (typeof flag !== 'number' || !Number.isInteger(flag) || flag < 0 || flag >= inspection.units) {
    throw new UserError(`--unit must be a whole number from 0 to ${inspection.units - 1} (the layer has ${inspection.units} units).`);
  }
  return flag;
}

/** The three strongest units per feature for the signal, with r. */
function rankingTable(inspection: CellInspection, signal: CellSignal): string {
  const ranking = inspection.ranking[signal];
  const { rankedOn } = inspection;
  const rows = TEXT_FEATURES.map((feature) => {
    const top = ranking?.[feature] ?? [];
    return [FEATURE_LABELS[feature], top.length === 0 ? 'does not vary' : top.slice(0, 3).map((c) => `${c.unit} (${c.r >= 0 ? '+' : ''}${c.r.toFixed(2)})`).join('  ')];
  });
  return (
    `Units of ${signal} that follow each feature (Pearson r over ${rankedOn.tokens.toLocaleString('en')} tokens of ${rankedOn.description}):\n` +
    formatTable(['feature', 'units (r)'], rows)
  );
}
