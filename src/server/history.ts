/**
 * The curves of one run for the dashboard. Per-batch points are downsampled as they come
 * so a long run never holds more than MAX_BATCH_POINTS: a chart cannot show more anyway.
 */
import type { EpochMetrics } from '../protocol/types';
import type { BatchPoint, RunHistory } from '../protocol/lsp';

export const MAX_BATCH_POINTS = 2000;

export class HistoryRecorder {
  private batches: BatchPoint[] = [];
  private readonly epochs: EpochMetrics[] = [];
  private readonly samples: { epoch: number; text: string }[] = [];
  private batchesPerEpoch?: number;
  /** Every `stride`-th batch is kept; the stride doubles each time the points fill up. */
  private stride = 1;
  private seen = 0;

  constructor(readonly runId: string) {}

  /** A recorder that goes on from a run's saved curves up to `epoch` (a resumed run). */
  static continuing(history: RunHistory, epoch: number): HistoryRecorder {
    const recorder = new HistoryRecorder(history.runId);
    history.batches.filter((b) => b.epoch <= epoch).forEach((b) => recorder.addBatch(b));
    history.epochs.filter((m) => m.epoch <= epoch && !m.partial).forEach((m) => recorder.addEpoch(m));
    history.samples.filter((s) => s.epoch <= epoch).forEach((s) => recorder.addSample(s.epoch, s.text));
    recorder.batchesPerEpoch = history.batchesPerEpoch;
    return recorder;
  }

  /** What a batch's progress says about the epoch it belongs to. */
  setBatchesPerEpoch(batches: number): void {
    this.batchesPerEpoch = batches;
  }

  addBatch(point: BatchPoint): void {
    if (this.seen++ % this.stride !== 0) return;
    this.batches.push(point);
    if (this.batches.length > MAX_BATCH_POINTS) {
      // Halving keeps points evenly spaced: the survivors are every (2·stride)-th batch.
      this.batches = this.batches.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }

  addEpoch(metrics: EpochMetrics): void {
    this.epochs.push(metrics);
  }

  addSample(epoch: number, text: string): void {
    this.samples.push({ epoch, text });
  }

  toJSON(): RunHistory {
    const history: RunHistory = { runId: this.runId, batches: [...this.batches], epochs: [...this.epochs], samples: [...this.samples] };
    return this.batchesPerEpoch === undefined ? history : { ...history, batchesPerEpoch: this.batchesPerEpoch };
  }
}
