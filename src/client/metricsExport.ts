/**
 * The dashboard's "Export CSV / JSON": every shown run's curves as the engine recorded
 * them (not as smoothed or zoomed on screen), so they can be plotted or compared
 * elsewhere. TensorBoard exports one run at a time; here all shown runs land in one file.
 * Pure (no `vscode`), for test/unit/metricsExport.test.ts.
 */
import type { RunHistory, RunInfo } from '../protocol/lsp';

export type ExportFormat = 'csv' | 'json';

export interface ExportedRun {
  info: RunInfo;
  label: string;
  history: RunHistory | undefined;
}

/** Long format, one row per point: per-batch rows carry the training figures of that batch, per-epoch rows the epoch's and the validation's. */
export const CSV_COLUMNS = [
  'run_id',
  'run',
  'cell',
  'text',
  'kind',
  'step',
  'epoch',
  'seconds',
  'loss',
  'accuracy',
  'val_loss',
  'val_accuracy',
  'val_perplexity',
] as const;

export function metricsCsv(runs: readonly ExportedRun[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const { info, label, history } of runs) {
    const run = [info.id, label, info.cell, info.corpusName];
    for (const b of history?.batches ?? []) {
      lines.push(csvLine([...run, 'batch', b.step, b.epoch, null, b.loss, b.accuracy, null, null, null]));
    }
    for (const e of history?.epochs ?? []) {
      lines.push(
        csvLine([...run, 'epoch', null, e.epoch, e.elapsedSeconds, e.loss, e.accuracy, e.valLoss, e.valAccuracy, e.valPerplexity]),
      );
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled; a missing figure is empty. */
function csvLine(fields: (string | number | null | undefined)[]): string {
  return fields
    .map((field) => {
      if (field === null || field === undefined || (typeof field === 'number' && !Number.isFinite(field))) return '';
      const text = String(field);
      return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    })
    .join(',');
}

/** Everything known about each run (settings, results, baselines) with its full curves. */
export function metricsJson(runs: readonly ExportedRun[], exportedAt: Date): string {
  const document = {
    exportedAt: exportedAt.toISOString(),
    runs: runs.map(({ info, label, history }) => ({
      label,
      ...info,
      batches: history?.batches ?? [],
      epochs: history?.epochs ?? [],
      samples: history?.samples ?? [],
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
