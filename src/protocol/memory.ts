/**
 * Memory through time as plain JSON: what `seqlab inspect memory` writes to memory.json
 * (core/inspect/memory.ts measures it; see there for what each figure means).
 */
import type { CellType } from './types';

export interface GradientCurve {
  /** k = 1 … maxLag. */
  lags: number[];
  /** Geometric mean over windows of ‖dL_t/dh_{t−k}‖, per lag. */
  geometricMean: number[];
  /** 10th and 90th percentiles over windows, per lag. */
  p10: number[];
  p90: number[];
  windows: number;
}

export interface ContextCurve {
  /** Tokens of context n. */
  contexts: number[];
  /** Mean loss (nats per token) of the sampled targets with n tokens of context, per n. */
  loss: number[];
  /** The same targets' mean loss with all the held-out text before them read. */
  fullContextLoss: number;
  /**
   * Per n: the standard error of (loss with n tokens − loss with all the text), paired over
   * the same targets; the gaps between contexts are known to this, though the level of the
   * whole curve moves more with the sample.
   */
  gapStandardError: number[];
  positions: number;
}

export interface MemoryCurves {
  /** Held-out tokens the samples were drawn from. */
  tokens: number;
  gradient: GradientCurve;
  context: ContextCurve;
}

export interface MemoryRun extends MemoryCurves {
  /** How the charts name the run. */
  label: string;
  run: string;
  cell: CellType;
  units: number;
  layers: number;
  /** Where the held-out text came from. */
  text: string;
}

export interface MemoryReport {
  /** What each figure averages, in words, so the JSON explains itself. */
  method: { gradient: string; context: string };
  runs: MemoryRun[];
}

/** What `seqlab/inspectMemory` answers for one run: its curves and what they were measured on; the extension names it. */
export type MeasuredMemory = Omit<MemoryRun, 'label'>;

// ---------------------------------------------------------------- the Memory Through Time panel

/** One run in the panel, in colour order (the dashboard's: its place among the runs shown). */
export interface MemoryPanelRun {
  runId: string;
  /** The run's unique name, as the dashboard and the Models view give it. */
  label: string;
  colourIndex: number;
  status: 'waiting' | 'measuring' | 'done' | 'failed';
  /** Set when done. */
  memory?: MeasuredMemory;
  /** Why it failed, one sentence. */
  error?: string;
}

/** extension → panel: everything to show, sent again whenever a run's status changes (a few hundred numbers per run). */
export type HostToMemory = { type: 'show'; runs: MemoryPanelRun[] };

/** panel → extension: the page (re)loaded and wants its content. */
export type MemoryToHost = { type: 'ready' };

/** What the page keeps in its state, so the serializer can measure the same runs after a window reload. */
export interface MemoryViewState {
  runIds: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumberArray(value: unknown, length?: number): value is number[] {
  return Array.isArray(value) && (length === undefined || value.length === length) && value.every((v) => typeof v === 'number');
}

/** Curves whose arrays line up, so the page can draw them point by point. */
export function isMeasuredMemory(value: unknown): value is MeasuredMemory {
  if (!isObject(value) || !isObject(value.gradient) || !isObject(value.context)) return false;
  const { gradient, context } = value;
  if (!isNumberArray(gradient.lags)) return false;
  const lags = gradient.lags.length;
  if (!isNumberArray(context.contexts)) return false;
  const contexts = context.contexts.length;
  return (
    typeof value.cell === 'string' &&
    typeof value.tokens === 'number' &&
    isNumberArray(gradient.geometricMean, lags) &&
    isNumberArray(gradient.p10, lags) &&
    isNumberArray(gradient.p90, lags) &&
    isNumberArray(context.loss, contexts) &&
    isNumberArray(context.gapStandardError, contexts) &&
    typeof context.fullContextLoss === 'number'
  );
}

const STATUSES: readonly string[] = ['waiting', 'measuring', 'done', 'failed'];

function isMemoryPanelRun(value: unknown): value is MemoryPanelRun {
  return (
    isObject(value) &&
    typeof value.runId === 'string' &&
    typeof value.label === 'string' &&
    typeof value.colourIndex === 'number' &&
    STATUSES.includes(value.status as string) &&
    (value.status !== 'done' || isMeasuredMemory(value.memory)) &&
    (value.error === undefined || typeof value.error === 'string')
  );
}

export function isHostToMemory(value: unknown): value is HostToMemory {
  return isObject(value) && value.type === 'show' && Array.isArray(value.runs) && value.runs.every(isMemoryPanelRun);
}

export function isMemoryToHost(value: unknown): value is MemoryToHost {
  return isObject(value) && value.type === 'ready';
}

export function isMemoryViewState(value: unknown): value is MemoryViewState {
  return isObject(value) && Array.isArray(value.runIds) && value.runIds.every((id) => typeof id === 'string' && id.length > 0);
}
