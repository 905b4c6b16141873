/**
 * How runs and figures are written for a person, shared by the extension (quick picks,
 * notifications, status bar) and the webviews (dashboard, Models view), so a run has the
 * same name everywhere. Pure functions on plain JSON.
 */
import type { RunInfo, RunState } from './lsp';
import type { CellType, SuggestionReport } from './types';

const CELL_NAMES: Record<CellType, string> = { rnn: 'RNN', gru: 'GRU', lstm: 'LSTM' };

export function cellName(cell: CellType): string {
  return CELL_NAMES[cell] ?? String(cell).toUpperCase();
}

/** "14:03" in local time, the same in every locale so a run reads the same everywhere; '' if unknown. */
export function clockTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/** "64·128×1": embedding · units × layers. */
export function sizeLabel(run: Pick<RunInfo, 'config'>): string {
  return `${run.config.embedding}·${run.config.units}×${run.config.layers}`;
}

export const STATE_LABELS: Record<RunState, string> = {
  queued: 'queued',
  training: 'training',
  done: 'done',
  stopped: 'stopped',
  failed: 'failed',
};

/** Runs that are still using (or waiting for) a core. */
export function isActiveState(state: RunState): boolean {
  return state === 'queued' || state === 'training';
}

/**
 * A run with a saved model (its best epoch so far) that can suggest and generate: it has
 * finished an epoch, even if it is still training, was stopped, or failed later.
 */
export function hasModel(run: Pick<RunInfo, 'state' | 'epochsDone'>): boolean {
  return run.epochsDone > 0;
}

/** "1 epoch", "3 epochs". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** "45s", "3m 05s", "1h 02m". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** 950, "12.3k", "1.20M": counts whose exact digits nobody reads. */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs < 1000) return String(Math.round(value));
  if (abs < 1e6) return `${(value / 1e3).toFixed(abs < 1e4 ? 2 : 1)}k`;
  return `${(value / 1e6).toFixed(2)}M`;
}

/** A figure such as a loss or a perplexity, with as many digits as help comparing runs. */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return Math.abs(value) >= 1000 ? formatCount(value) : value.toPrecision(digits);
}

export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return `${(value * 100).toFixed(1)}%`;
}

/**
 * "network 62% · KN3 25% · cache 3% · neural cache 10% · learns from the document": what the
 * suggestions mix, in whole percents, and whether the network adapts as it reads.
 */
export function mixtureShares({ weights, adaptation }: Pick<SuggestionReport, 'weights' | 'adaptation'>): string {
  const share = (x: number) => `${Math.round(x * 100)}%`;
  const neural = weights.neuralCache === undefined ? '' : ` · neural cache ${share(weights.neuralCache)}`;
  const learns = adaptation ? ' · learns from the document' : '';
  return `network ${share(weights.network)} · KN3 ${share(weights.kn3)} · cache ${share(weights.cache)}${neural}${learns}`;
}
