/**
 * Messages between the engine (jobs.ts) and a training worker process (trainWorker.ts). Both ends
 * run in the same build, so these are plain TypeScript types, not a public protocol.
 */
import type { GenerateOptions } from '../core/predictor';
import type { RunRequest, RunStart } from '../core/run';
import type { BatchProgress, EpochMetrics, TrainSummary } from '../protocol/types';

/** The first message to a training worker: the run it trains. */
export interface TrainJobData {
  /** Always with `dir`: the engine claims the run folder when it queues the run. */
  request: RunRequest & { dir: string };
  /** How the sample continuation after each epoch is generated; none: no samples. */
  sample?: GenerateOptions;
  /** Go on from the run folder's checkpoint instead of starting it (resumeRun). */
  resume?: boolean;
}

/** Worker → engine. */
export type WorkerMessage =
  | { type: 'start'; start: RunStart }
  | { type: 'batch'; progress: BatchProgress }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'sample'; epoch: number; text: string }
  /** Training ended with a saved model (completed, early-stopped or stopped). */
  | { type: 'done'; summary: TrainSummary }
  /** Training ended without a model; `message` is one sentence for a person, `detail` for the log. */
  | { type: 'failed'; message: string; detail?: string };

/** Engine → worker: the job first, then possibly a request to stop before the next batch. */
export type EngineMessage = { type: 'job'; data: TrainJobData } | { type: 'stop' };
