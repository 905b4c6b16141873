/**
 * SeqLab's messages between the extension (client) and the engine (language server), on
 * top of standard LSP. Inline suggestions use the standard LSP 3.18
 * `textDocument/inlineCompletion` request; everything here is SeqLab's own. Each constant
 * documents its direction. Plain JSON only: no `vscode` and no TensorFlow.js types.
 */
import type { Baselines, BatchProgress, CellType, EpochMetrics, SuggestionReport, TrainConfig } from './types';

/** What the client passes in `initializationOptions`. */
export interface EngineInitOptions {
  /** Folder where run folders live (the extension's global storage), so runs survive reloads. */
  runsDir: string;
  settings: EngineSettings;
  /** A folder holding node_modules/@tensorflow/tfjs-node, for the native backend; none: only the engine's own. */
  nativeFolder?: string;
}

/** The settings the engine needs; the client sends them again on every change. */
export interface EngineSettings {
  suggestions: SuggestionSettings;
  /** Runs that may train at once; the rest wait as 'queued'. */
  maxConcurrentRuns: number;
}

export interface SuggestionSettings {
  enabled: boolean;
  /** Whole words after the one being typed. */
  maxWords: number;
  /**
   * Show a suggestion only when the model gives all of it at least this probability; null
   * means the threshold the active run chose on its held-out text (suggestion.json).
   */
  minConfidence: number | null;
}

export type RunState = 'queued' | 'training' | 'done' | 'stopped' | 'failed';

/** A run found interrupted when the engine started: what happened, and whether it can go on. */
export interface InterruptedRun {
  runId: string;
  message: string;
  resumable: boolean;
}

/** How Export Model writes a run: its folder as is, a Keras 3 model, or a Keras project that trains it again. */
export type ExportFormat = 'folder' | 'keras' | 'keras-script';

/** One row of the Models panel: what the registry knows about a run. */
export interface RunInfo {
  id: string;
  /** The run folder. */
  dir: string;
  /** The text it was trained on, e.g. "notes.md" or "notes.md (selection)". */
  corpusName: string;
  cell: CellType;
  config: TrainConfig;
  state: RunState;
  createdAt: string;
  params?: number;
  vocabSize?: number;
  backend?: string;
  epochsDone: number;
  bestEpoch?: number;
  bestValLoss?: number | null;
  valAccuracy?: number | null;
  valPerplexity?: number | null;
  /** Nats per character of the validation text at the best epoch, once the run has ended. */
  natsPerChar?: number | null;
  tokensPerSecond?: number;
  seconds?: number;
  /** The counting baselines of its text; absent for a run saved before SeqLab scored KN3. */
  baselines?: Baselines;
  /** What suggests (network, KN3, document cache) and how well, once the run has ended; null when it fitted none. */
  suggestion?: SuggestionReport | null;
  /** Why a failed run failed, one sentence. */
  error?: string;
  /** Set when the engine stopped while the run trained (a window reload, a crash): what happened and what was kept. */
  interruption?: string;
  /** It stopped before its last epoch and has a checkpoint to go on from (Resume). */
  resumable?: boolean;
  /** Runs started together by one Compare command share a group id. */
  group?: string;
  /** The run whose experiment this one repeated in Keras (kerasScript.ts), shown beside it. */
  reproduces?: string;
}

/** A downsampled point of the per-batch curves. */
export interface BatchPoint {
  /** Batches done since the start of the run, counting across epochs. */
  step: number;
  epoch: number;
  loss: number;
  accuracy: number;
}

/** Everything the dashboard needs to redraw a run's curves. */
export interface RunHistory {
  runId: string;
  batches: BatchPoint[];
  epochs: EpochMetrics[];
  /** A sample continuation after each epoch: the prompt followed by the model's words. */
  samples: { epoch: number; text: string }[];
  /** Batches in one epoch, which places the epoch points on a step axis; unknown for runs trained elsewhere. */
  batchesPerEpoch?: number;
}

/** Progress of one run; exactly one of the optional parts is set. */
export interface RunProgress {
  runId: string;
  batch?: BatchProgress & { step: number };
  epoch?: EpochMetrics;
  sample?: { epoch: number; text: string };
  state?: RunState;
  error?: string;
}

export interface TrainParams {
  /** The document to train on; the engine has its text through text sync. */
  uri: string;
  /** Only this part of the document (a selection), when given. */
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
  corpusName: string;
  /** One run per cell; several cells make a comparison on the same split and seed. */
  cells: CellType[];
  config: TrainConfig;
}

export interface GenerateParams {
  runId: string;
  prompt: string;
  words: number;
  /** 0: the likeliest word each time; higher: drawn more freely. */
  temperature: number;
  /** Never write a run of this many tokens twice (0 or absent: no such rule). */
  noRepeat?: number;
}

export const Methods = {
  /** client → server request: start training (one run per cell). Params TrainParams, result `{ runIds: string[] }`. Fails with a one-sentence message for an empty, binary or too short text. */
  train: 'seqlab/train',
  /** client → server request: stop a run (or all running and queued runs when `runId` is absent). Params `{ runId?: string }`, result null. The run keeps its best epoch; a queued run, which has none, is removed (its progress says 'stopped' first). */
  stop: 'seqlab/stop',
  /** client → server request: the registry. Params `{}`, result `{ runs: RunInfo[]; activeRunId: string | null }`. */
  runs: 'seqlab/runs',
  /** client → server request: curves of runs for the dashboard. Params `{ runIds: string[] }`, result `{ histories: RunHistory[] }`. */
  history: 'seqlab/history',
  /** client → server request: choose the model for inline suggestions (null = none). Params `{ runId: string | null }`, result null. */
  setActiveModel: 'seqlab/setActiveModel',
  /** client → server request: continue a prompt. Params GenerateParams, result `{ text: string }`. */
  generate: 'seqlab/generate',
  /** client → server request: copy a finished run folder into `target` (format 'folder', the default), or write it there as a Keras 3 model (format 'keras': model.keras, tokenizer.json, README.md). Params `{ runId: string; target: string; format?: 'folder' | 'keras' }`, result `{ dir: string }`. */
  exportRun: 'seqlab/exportRun',
  /** client → server request: go on training a stopped or interrupted run from its last completed epoch, on its text read again from its files. Params `{ runId: string }`, result null. Fails with a sentence when the run cannot go on (no checkpoint, text changed or not in a file). */
  resumeRun: 'seqlab/resumeRun',
  /** client → server request: import a Keras 3 model (.keras) with SeqLab's tokenizer JSON (by default the tokenizer.json beside it) as a new run. Params `{ file: string; tokenizer?: string }`, result `{ runId: string }`. Fails with a sentence naming a layer SeqLab cannot run. */
  importRun: 'seqlab/importRun',
  /** client → server request: the cell inspector for a range of an open document, with a run's model (the active one when `runId` is absent). Params InspectCellsParams, result CellInspection (src/protocol/cells.ts). Fails with a sentence when there is no model or no words in the range. */
  inspectCells: 'seqlab/inspectCells',
  /** client → server request: memory through time for a finished run, on its validation text (src/protocol/memory.ts). Params `{ runId: string }`, result MeasuredMemory. Measured once per run and kept; fails with a sentence when the run is still training or its text cannot be read again. */
  inspectMemory: 'seqlab/inspectMemory',
  /** client → server request: stop (if needed) and delete a run folder. Params `{ runId: string }`, result null. */
  deleteRun: 'seqlab/deleteRun',
  /** client → server notification: settings changed. Params EngineSettings. */
  settingsChanged: 'seqlab/settingsChanged',
  /** server → client notification: training progress, throttled to about 10 per second per run. Params RunProgress. */
  progress: 'seqlab/progress',
  /** server → client notification: the registry changed (a run was added, finished, deleted, or the active model changed). Params `{ runs: RunInfo[]; activeRunId: string | null }`. */
  runsChanged: 'seqlab/runsChanged',
  /** server → client notification, once after start: runs found interrupted (their engine stopped while they trained). Params `{ runs: { runId: string; message: string; resumable: boolean }[] }`, one sentence per run. */
  runsInterrupted: 'seqlab/runsInterrupted',
  /** server → client notification: after each inline completion the engine answered with the active model, the time it took on the engine's side (for the status bar). Params SuggestionLatency. */
  suggestionLatency: 'seqlab/suggestionLatency',
  /** client → server request: how surprised the active model is by each token of an open document (src/protocol/surprisal.ts), computed once per document version. Params SurprisalParams, result SurprisalResult. Fails with a sentence when no model is chosen or the document is not open. */
  surprisal: 'seqlab/surprisal',
  /** client → server request: the model's best guesses at one token of a document version `seqlab/surprisal` answered (for the hover). Params SurprisalGuessesParams, result SurprisalGuessesResult. */
  surprisalGuesses: 'seqlab/surprisalGuesses',
} as const;

export interface SuggestionLatency {
  runId: string;
  /** From receiving the request to having the answer, in the engine process. */
  milliseconds: number;
}

export interface RunsResult {
  runs: RunInfo[];
  activeRunId: string | null;
}
