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
