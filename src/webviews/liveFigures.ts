/**
 * What a training run shows in place of results it does not have yet, the same line on its
 * dashboard card and its Models view card: "epoch 3/20 · loss 5.12 · val loss 4.90 ·
 * 9.1k tokens/s · ETA 1m 05s". Keeps each run's latest batch and epoch from the progress
 * the extension forwards.
 */
import { formatCount, formatDuration, formatNumber } from '../protocol/format';
import type { RunInfo, RunProgress } from '../protocol/lsp';
import type { BatchProgress, EpochMetrics } from '../protocol/types';

export interface Live {
  latest?: BatchProgress;
  lastEpoch?: EpochMetrics;
}

/** The latest batch and epoch of each run, from its progress events. */
export class LiveRuns {
  private readonly runs = new Map<string, Live>();

  /** Records `progress`; true when it changed a run's figures. */
  apply(progress: RunProgress): boolean {
    if (!progress.batch && !progress.epoch) return false;
    const live = this.runs.get(progress.runId) ?? {};
    if (progress.batch) live.latest = progress.batch;
    if (progress.epoch) live.lastEpoch = progress.epoch;
    this.runs.set(progress.runId, live);
    return true;
  }

  get(runId: string): Live {
    return this.runs.get(runId) ?? {};
  }
}

/** The live line of a queued or training run. */
export function liveLine(info: Pick<RunInfo, 'state' | 'epochsDone' | 'config'>, { latest, lastEpoch }: Live): string {
  if (info.state === 'queued') return 'waiting for a free core';
  if (!latest) {
    return info.epochsDone > 0 ? `epoch ${info.epochsDone}/${info.config.epochs} done` : 'preparing the text';
  }
  return [
    `epoch ${latest.epoch}/${latest.epochs}`,
    `loss ${formatNumber(latest.loss)}`,
    lastEpoch?.valLoss != null ? `val loss ${formatNumber(lastEpoch.valLoss)}` : '',
    `${formatCount(latest.tokensPerSecond)} tokens/s`,
    `ETA ${formatDuration(latest.etaSeconds)}`,
  ]
    .filter(Boolean)
    .join(' · ');
}
