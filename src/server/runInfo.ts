/** RunInfo, the Models panel's row, from what a run folder or a training worker reports. */
import * as nodePath from 'node:path';
import type { RunRecord } from '../core/store';
import type { Baselines, EpochMetrics, TrainSummary } from '../protocol/types';
import type { RunInfo } from '../protocol/lsp';
import type { RunOrigin } from './runFiles';

/** A row for a run folder found on disk. */
export function infoFromRecord(record: RunRecord, dir: string, metrics: EpochMetrics[], origin?: RunOrigin): RunInfo {
  const last = metrics[metrics.length - 1];
  const best = metrics.find((m) => m.epoch === record.bestEpoch) ?? [...metrics].reverse().find((m) => m.best);
  const info: RunInfo = {
    id: record.id,
    dir,
    corpusName: origin?.corpusName ?? nameFromSources(record),
    cell: record.config.cell,
    config: record.config,
    state: record.status,
    createdAt: record.createdAt,
    params: record.params,
    vocabSize: record.vocabSize,
    backend: record.backend,
    epochsDone: metrics.length,
    ...bestEpochFields(best),
    tokensPerSecond: last?.tokensPerSecond,
    seconds: last?.elapsedSeconds,
    error: record.error,
    interruption: record.interruption,
    group: origin?.group,
    reproduces: record.reproduces,
  };
  return record.summary ? { ...info, ...summaryFields(record.summary) } : info;
}

/** The figures of the epoch whose weights are kept. */
export function bestEpochFields(best: EpochMetrics | undefined): Partial<RunInfo> {
  if (!best) return {};
  return { bestEpoch: best.epoch, bestValLoss: best.valLoss, valAccuracy: best.valAccuracy, valPerplexity: best.valPerplexity };
}

/** After an epoch: progress so far, and the best figures if this epoch is the new best. */
export function epochFields(metrics: EpochMetrics): Partial<RunInfo> {
  return {
    epochsDone: metrics.epoch,
    tokensPerSecond: metrics.tokensPerSecond,
    seconds: metrics.elapsedSeconds,
    ...(metrics.best ? bestEpochFields(metrics) : {}),
  };
}

/** The final figures of a run that saved its model. */
export function summaryFields(summary: TrainSummary): Partial<RunInfo> {
  return {
    params: summary.params,
    vocabSize: summary.vocabSize,
    backend: summary.backend,
    epochsDone: summary.epochs,
    bestEpoch: summary.bestEpoch,
    bestValLoss: summary.valLoss,
    valAccuracy: summary.valAccuracy,
    valPerplexity: summary.valPerplexity,
    natsPerChar: summary.natsPerChar,
    tokensPerSecond: summary.tokensPerSecond,
    seconds: summary.seconds,
    baselines: currentBaselines(summary.baselines),
    // A run saved before suggestion.json has no such field: the network suggests alone.
    suggestion: summary.suggestion ?? null,
  };
}

/**
 * A run saved before the KN3 baseline recorded a bigram instead (and no nats per
 * character); it shows no baselines rather than a bar that is too easy.
 */
function currentBaselines(baselines: Baselines): Baselines | undefined {
  return typeof baselines?.kn3 === 'number' ? baselines : undefined;
}

/** Runs trained elsewhere (e.g. by the `seqlab` command) have no origin.json. */
function nameFromSources(record: RunRecord): string {
  const sources = record.corpus.sources;
  if (sources.length === 0) return record.id;
  return sources.length === 1 ? nodePath.basename(sources[0]) : `${nodePath.basename(sources[0])} and ${sources.length - 1} more`;
}
