/**
 * The dashboard's table of the shown runs' settings, one column per run in its colour,
 * with "differences only" (W&B's "diff only") showing just the rows that differ. The rows
 * come from ./settingsDiff.
 */
import { h } from './dom';
import { settingsRows } from './settingsDiff';
import { runColourVar } from './theme';
import type { RunInfo } from '../protocol/lsp';

export interface TableRun {
  info: RunInfo;
  label: string;
  colourIndex: number;
}

/** Fills `table` and returns the note to show beside it ('' for none). */
export function renderSettings(table: HTMLTableElement, runs: TableRun[], diffOnly: boolean): string {
  // One run has nothing to differ from: show all its settings.
  const rows = settingsRows(
    runs.map((run) => run.info),
    diffOnly && runs.length > 1,
  );
  const header = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'Setting'),
    ...runs.map((run) => {
      const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.setProperty('background-color', runColourVar(run.colourIndex));
      return h('th', { scope: 'col' }, swatch, run.label);
    }),
  );
  const body = rows.map((row) =>
    h(
      'tr',
      { class: row.differs ? 'differs' : undefined, 'data-setting': row.name },
      h('th', { scope: 'row' }, row.name),
      ...row.values.map((value) => h('td', {}, value)),
    ),
  );
  table.replaceChildren(h('thead', {}, header), h('tbody', {}, ...body));
  table.hidden = runs.length === 0 || rows.length === 0;
  if (runs.length > 1 && rows.length === 0) return 'The shown runs have the same settings.';
  return '';
}
