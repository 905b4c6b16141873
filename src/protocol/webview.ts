/**
 * Messages between the extension and its two webviews (the dashboard panel and the Models
 * view), as discriminated unions in both directions, plus the type guards each side runs on
 * what it receives. A webview is a web page: whatever arrives through `postMessage` is
 * checked before it is trusted. Plain JSON only.
 */
import type { RunHistory, RunInfo, RunProgress } from './lsp';
import type { SuggestionReport } from './types';

// ---------------------------------------------------------------- dashboard

/** extension → dashboard */
export type HostToDashboard =
  /** Replace everything shown: these runs (in colour order) with their curves so far. */
  | { type: 'show'; runs: RunInfo[]; histories: RunHistory[]; labels: RunLabels }
  /** New registry facts (state, tokens/s, best loss) for the runs shown, same order. */
  | { type: 'runs'; runs: RunInfo[]; labels: RunLabels }
  /** One progress event of a run shown. */
  | { type: 'progress'; progress: RunProgress };

/** dashboard → extension */
export type DashboardToHost =
  /** The page has loaded (again, after being hidden or reloaded) and wants its content. */
  | { type: 'ready' }
  /** The person pressed a run's Stop button. */
  | { type: 'stop'; runId: string }
  /** Save the shown runs' metrics to a file the person picks. */
  | { type: 'export'; format: 'csv' | 'json' };

/** Run id → the run's unique short name ("GRU 19:41", "GRU 19:41:07" when two would read alike), from src/client/runLabels.ts. */
export type RunLabels = Record<string, string>;

/** What the dashboard keeps in `vscode.setState`; the serializer gets it back after a reload. */
export interface DashboardState {
  runIds: string[];
}

// ---------------------------------------------------------------- Models view

/** extension → Models view */
export type HostToModels =
  | {
      type: 'update';
      runs: RunInfo[];
      labels: RunLabels;
      activeRunId: string | null;
      /** Runs shown in the dashboard, in colour order. */
      selected: string[];
      suggestionsEnabled: boolean;
    }
  /** A training run's latest batch or epoch, for its live figures. */
  | { type: 'progress'; progress: RunProgress };

/** Models view → extension */
export type ModelsToHost =
  | { type: 'ready' }
  /** The whole new selection after a checkbox changed. */
  | { type: 'select'; runIds: string[] }
  | { type: 'useModel'; runId: string }
  | { type: 'deleteRun'; runId: string }
  | { type: 'stopRun'; runId: string }
  | { type: 'resumeRun'; runId: string }
  | { type: 'showDashboard' }
  | { type: 'trainModel' };

// ---------------------------------------------------------------- guards

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 1000;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= 10_000 && value.every(isString);
}

/** Enough of a RunInfo to render it; the engine built it, so the shape is checked, not every figure. */
function isRunInfo(value: unknown): value is RunInfo {
  return (
    isObject(value) &&
    isString(value.id) &&
    typeof value.cell === 'string' &&
    typeof value.state === 'string' &&
    typeof value.corpusName === 'string' &&
    isObject(value.config) &&
    (value.suggestion === undefined || value.suggestion === null || isSuggestionReport(value.suggestion))
  );
}

/** The suggestion figures a view reads: the mixture's shares and the scores beside them. */
function isSuggestionReport(value: unknown): value is SuggestionReport {
  if (!isObject(value) || !isObject(value.weights)) return false;
  const { network, kn3, cache, neuralCache } = value.weights;
  const figures = [network, kn3, cache, value.minConfidence, value.keystrokeSavings, value.wordStartOffered, value.wordStartFirstWordRight];
  return (
    figures.every((x) => typeof x === 'number') &&
    (neuralCache === undefined || typeof neuralCache === 'number') &&
    (value.wordStarts === undefined || Number.isInteger(value.wordStarts)) &&
    (value.natsPerChar === null || typeof value.natsPerChar === 'number') &&
    (value.adaptation === undefined || (isObject(value.adaptation) && typeof value.adaptation.segmentTokens === 'number')) &&
    (value.adaptedNetworkNatsPerChar === undefined || value.adaptedNetworkNatsPerChar === null || typeof value.adaptedNetworkNatsPerChar === 'number')
  );
}

function isRunInfoArray(value: unknown): value is RunInfo[] {
  return Array.isArray(value) && value.every(isRunInfo);
}

function isRunLabels(value: unknown): value is RunLabels {
  return isObject(value) && Object.values(value).every(isString);
}

function isRunHistory(value: unknown): value is RunHistory {
  return (
    isObject(value) &&
    isString(value.runId) &&
    Array.isArray(value.batches) &&
    Array.isArray(value.epochs) &&
    Array.isArray(value.samples)
  );
}

export function isDashboardToHost(value: unknown): value is DashboardToHost {
  if (!isObject(value)) return false;
  switch (value.type) {
    case 'ready':
      return true;
    case 'stop':
      return isString(value.runId);
    case 'export':
      return value.format === 'csv' || value.format === 'json';
    default:
      return false;
  }
}

export function isHostToDashboard(value: unknown): value is HostToDashboard {
  if (!isObject(value)) return false;
  switch (value.type) {
    case 'show':
      return isRunInfoArray(value.runs) && Array.isArray(value.histories) && value.histories.every(isRunHistory) && isRunLabels(value.labels);
    case 'runs':
      return isRunInfoArray(value.runs) && isRunLabels(value.labels);
    case 'progress':
      return isProgress(value.progress);
    default:
      return false;
  }
}

function isProgress(value: unknown): value is RunProgress {
  return isObject(value) && isString(value.runId);
}

export function isDashboardState(value: unknown): value is DashboardState {
  return isObject(value) && isStringArray(value.runIds);
}

export function isModelsToHost(value: unknown): value is ModelsToHost {
  if (!isObject(value)) return false;
  switch (value.type) {
    case 'ready':
    case 'showDashboard':
    case 'trainModel':
      return true;
    case 'select':
      return isStringArray(value.runIds);
    case 'useModel':
    case 'deleteRun':
    case 'stopRun':
    case 'resumeRun':
      return isString(value.runId);
    default:
      return false;
  }
}

export function isHostToModels(value: unknown): value is HostToModels {
  if (!isObject(value)) return false;
  if (value.type === 'progress') return isProgress(value.progress);
  return (
    value.type === 'update' &&
    isRunInfoArray(value.runs) &&
    isRunLabels(value.labels) &&
    (value.activeRunId === null || isString(value.activeRunId)) &&
    isStringArray(value.selected) &&
    typeof value.suggestionsEnabled === 'boolean'
  );
}
