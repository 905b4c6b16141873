/**
 * Training progress on stderr: a live bar on a terminal, one plain line per epoch
 * otherwise (logs, CI), so stdout stays free for results and `--json`.
 */
import type { RunStart } from '../core/run';
import type { BatchProgress, EpochMetrics } from '../protocol/types';

/** Redraws of the bar per second: more is invisible and costs time on slow terminals. */
const REDRAWS_PER_SECOND = 10;
const BAR_WIDTH = 24;

export class ProgressReporter {
  private lastDraw = 0;
  private barShown = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly label: string,
    /** A live bar on a terminal; off when several runs report at once. */
    private readonly bar = true,
  ) {}

  private get live(): boolean {
    return this.bar && Boolean(this.out.isTTY);
  }

  start(info: RunStart): void {
    this.line(
      `${this.label}: ${info.trainTokens.toLocaleString('en')} training tokens, ${info.validationTokens.toLocaleString('en')} validation, ` +
        `vocabulary ${info.vocabSize.toLocaleString('en')}, window ${info.seqLen}, ${info.params.toLocaleString('en')} parameters, backend ${info.backend} (${info.backendReason})`,
    );
  }

  batch(progress: BatchProgress): void {
    if (!this.live) return;
    const now = Date.now();
    if (now - this.lastDraw < 1000 / REDRAWS_PER_SECOND && progress.batch !== progress.batches) return;
    this.lastDraw = now;
    const done = Math.round((progress.batch / progress.batches) * BAR_WIDTH);
    const bar = '#'.repeat(done) + '-'.repeat(BAR_WIDTH - done);
    const text =
      `${this.label} epoch ${progress.epoch}/${progress.epochs} [${bar}] ` +
      `loss ${progress.loss.toFixed(3)} acc ${percent(progress.accuracy)} ` +
      `${Math.round(progress.tokensPerSecond).toLocaleString('en')} tok/s ETA ${duration(progress.etaSeconds)}`;
    this.out.write(`\r${text.slice(0, (this.out.columns || 120) - 1)}\x1b[K`);
    this.barShown = true;
  }

  epoch(metrics: EpochMetrics): void {
    const validation =
      metrics.valLoss === null
        ? ''
        : `  val loss ${metrics.valLoss.toFixed(3)} acc ${percent(metrics.valAccuracy!)} ppl ${metrics.valPerplexity!.toFixed(1)}`;
    this.line(
      `${this.label} epoch ${metrics.epoch}/${metrics.epochs}${metrics.partial ? ' (stopped)' : ''}  ` +
        `loss ${metrics.loss.toFixed(3)} acc ${percent(metrics.accuracy)}${validation}  ` +
        `${Math.round(metrics.tokensPerSecond).toLocaleString('en')} tok/s  ${duration(metrics.elapsedSeconds)}` +
        (metrics.best ? '  best' : ''),
    );
  }

  line(text: string): void {
    if (this.barShown) this.out.write('\r\x1b[K');
    this.barShown = false;
    this.out.write(text + '\n');
  }
}

export function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
