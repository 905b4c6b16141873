/**
 * The quick picks commands ask through: cell, size preset and run. Labels are stable
 * ("LSTM", "Tiny", a run's label) so people and the end-to-end tests can type them.
 */
import * as vscode from 'vscode';
import { SIZE_PRESETS, type ModelSize } from '../core/config';
import { cellName, formatNumber, formatPercent, plural, sizeLabel, STATE_LABELS } from '../protocol/format';
import type { RunInfo } from '../protocol/lsp';
import type { CellType } from '../protocol/types';

/** Like showQuickPick, but with an item already highlighted (showQuickPick cannot preselect). */
function pickOne<T extends vscode.QuickPickItem>(items: T[], title: string, placeholder: string, active?: T): Promise<T | undefined> {
  return new Promise((resolve) => {
    const pick = vscode.window.createQuickPick<T>();
    pick.title = title;
    pick.placeholder = placeholder;
    pick.items = items;
    pick.matchOnDescription = true;
    pick.matchOnDetail = true;
    if (active) pick.activeItems = [active];
    let chosen: T | undefined;
    pick.onDidAccept(() => {
      chosen = pick.selectedItems[0] ?? pick.activeItems[0];
      pick.hide();
    });
    pick.onDidHide(() => {
      pick.dispose();
      resolve(chosen);
    });
    pick.show();
  });
}

const CELL_DETAILS: Record<CellType, string> = {
  rnn: 'Simple recurrent network: the fastest and smallest, with the shortest memory.',
  gru: 'Gated recurrent unit: gates keep context longer; about three times the weights of an RNN.',
  lstm: 'Long short-term memory: the classic choice for text; about four times the weights of an RNN.',
};

export async function pickCell(preferred: CellType): Promise<CellType | undefined> {
  const items = (['rnn', 'gru', 'lstm'] as const).map((cell) => ({
    cell,
    label: cellName(cell),
    description: cell === preferred ? 'seqlab.model.cell' : undefined,
    detail: CELL_DETAILS[cell],
  }));
  const chosen = await pickOne(items, 'Train Model: Cell', 'Which recurrent cell?', items.find((i) => i.cell === preferred));
  return chosen?.cell;
}

export type Size = ModelSize;

function describeSize(size: Size): string {
  return `Embedding ${size.embedding}, ${size.units} units, ${plural(size.layers, 'layer')}`;
}

const sameSize = (a: Size, b: Size) => a.embedding === b.embedding && a.units === b.units && a.layers === b.layers;

/** A preset, or the sizes from the settings when they match none of them. */
export async function pickSize(title: string, fromSettings: Size): Promise<Size | undefined> {
  const items: (vscode.QuickPickItem & { size: Size })[] = SIZE_PRESETS.map(({ label, size, why }) => ({
    label,
    size,
    description: sameSize(size, fromSettings) ? 'your settings' : undefined,
    detail: `${describeSize(size)}: ${why}.`,
  }));
  if (!items.some((item) => sameSize(item.size, fromSettings))) {
    items.push({
      label: 'From Settings',
      size: fromSettings,
      description: 'seqlab.model.*',
      detail: `${describeSize(fromSettings)}, as in your settings.`,
    });
  }
  const active = items.find((item) => sameSize(item.size, fromSettings));
  return (await pickOne(items, `${title}: Size`, 'How large a model?', active))?.size;
}

export async function pickRun(runs: readonly RunInfo[], title: string, activeRunId: string | null, runLabel: (run: RunInfo) => string): Promise<RunInfo | undefined> {
  // Newest first: the run just trained is the one people usually mean.
  const sorted = [...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const items = sorted.map((run) => ({
    run,
    label: `${run.id === activeRunId ? '$(star-full) ' : ''}${runLabel(run)}`,
    description: `${sizeLabel(run)} · ${STATE_LABELS[run.state]}`,
    detail:
      `${plural(run.epochsDone, 'epoch')} · validation perplexity ${formatNumber(run.valPerplexity)}` +
      ` · accuracy ${formatPercent(run.valAccuracy)}${run.id === activeRunId ? ' · suggesting now' : ''}`,
  }));
  const active = items.find((item) => item.run.id === activeRunId);
  return (await pickOne(items, title, 'Which run?', active))?.run;
}
