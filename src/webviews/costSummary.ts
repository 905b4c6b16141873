/**
 * Under a comparison in the Models view: what each cell costs. The recurrent weights of
 * RNN, GRU and LSTM stand 1 : 3 : 4 (their gate blocks); beside them, the time per token
 * each run actually took, so a person sees how much of that the arithmetic explains.
 */
import { comparisonCosts } from '../protocol/costs';
import { cellName, formatCount } from '../protocol/format';
import type { RunInfo } from '../protocol/lsp';
import type { RunLabels } from '../protocol/webview';

/** One sentence per comparison (runs sharing a group) of two or more finished cells, oldest comparison first. */
export function costLines(runs: RunInfo[], labels: RunLabels): string[] {
  const groups = new Map<string, RunInfo[]>();
  for (const run of runs) if (run.group && run.vocabSize) groups.set(run.group, [...(groups.get(run.group) ?? []), run]);
  return [...groups.values()]
    .filter((group) => group.length >= 2)
    .map((group) => {
      const { reference, cells } = comparisonCosts(group.map((run) => ({ ...run.config, vocabSize: run.vocabSize!, tokensPerSecond: run.tokensPerSecond })));
      const ratios = (values: (number | null)[]) => values.map((v) => (v === null ? '–' : v.toFixed(1))).join(' : ');
      const names = group.map((run) => labels[run.id] ?? cellName(run.cell)).join(', ');
      const times = cells.every((c) => c.timeRatio !== null) ? `; time per token ${ratios(cells.map((c) => c.timeRatio))}` : '';
      return (
        `${names}: recurrent weights ${cells.map((c) => formatCount(c.parts.recurrent)).join(' · ')} ` +
        `(${ratios(cells.map((c) => c.recurrentRatio))})${times}, ${cellName(reference)} = 1.`
      );
    });
}
