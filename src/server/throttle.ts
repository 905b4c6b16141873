/**
 * Keeps a run's per-batch progress to at most one notification per interval (a chart
 * needs no more), always delivering the latest batch; other progress goes out at once.
 */
import type { RunProgress } from '../protocol/lsp';

/** 100 ms: at most 10 batch notifications a second per run. */
export const PROGRESS_INTERVAL_MS = 100;

export class ProgressThrottle {
  private lastSent = -Infinity;
  private pending: RunProgress | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (progress: RunProgress) => void,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {}

  /** A batch: sent now if the interval has passed, else the newest one is sent when it has. */
  batch(progress: RunProgress): void {
    const wait = this.lastSent + this.intervalMs - performance.now();
    if (wait <= 0 && !this.timer) {
      this.emit(progress);
      return;
    }
    this.pending = progress;
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, wait));
  }

  /** Epochs, samples and state changes: never dropped, and after any pending batch. */
  now(progress: RunProgress): void {
    this.flush();
    this.emit(progress);
  }

  /** Sends the pending batch, if any. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (pending) this.emit(pending);
  }

  private emit(progress: RunProgress): void {
    if (progress.batch) this.lastSent = performance.now();
    this.send(progress);
  }
}
