/**
 * One short name per run, the same in the Models view, the dashboard and its exports:
 * "GRU 19:41". Two runs of a cell started in the same minute would read alike, so those
 * (and only those) get their seconds, "GRU 19:41:07", and runs that still collide a
 * number in start order, "GRU 19:41:07 #2". A run keeps its name while the runs it does
 * not collide with come and go. Pure: the extension computes the names from its whole
 * registry (the dashboard sees only the runs it shows) and sends them with the runs.
 */
import { cellName, clockTime } from '../protocol/format';
import type { RunInfo } from '../protocol/lsp';

type Named = Pick<RunInfo, 'id' | 'cell' | 'createdAt'>;

/** Run id → its unique name. */
export function runLabels(runs: readonly Named[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const clash of collisions(runs, (run) => `${cellName(run.cell)} ${clockTime(run.createdAt)}`.trim())) {
    if (clash.runs.length === 1) {
      labels[clash.runs[0].id] = clash.label;
      continue;
    }
    for (const finer of collisions(clash.runs, (run) => `${clash.label}${seconds(run.createdAt)}`)) {
      // Same second (or no time at all): number them by start, then id, so the order never flips.
      const ordered = [...finer.runs].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
      ordered.forEach((run, i) => (labels[run.id] = i === 0 ? finer.label : `${finer.label} #${i + 1}`));
    }
  }
  return labels;
}

/** Runs grouped by the label `name` gives them, in first-seen order. */
function collisions(runs: readonly Named[], name: (run: Named) => string): { label: string; runs: Named[] }[] {
  const groups = new Map<string, Named[]>();
  for (const run of runs) groups.set(name(run), [...(groups.get(name(run)) ?? []), run]);
  return [...groups].map(([label, members]) => ({ label, runs: members }));
}

/** ":07", the seconds after clockTime's "19:41"; '' for a time that does not parse. */
function seconds(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : `:${String(date.getSeconds()).padStart(2, '0')}`;
}
