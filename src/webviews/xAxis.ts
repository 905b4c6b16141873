/**
 * Where a run's points go on the x axis, which the person chooses as TensorBoard offers:
 * batches trained (step), epochs (fractional within an epoch) or seconds since the run
 * started (wall time, relative). Pure, for test/unit/dashboardLogic.test.ts.
 */

export const X_MODES = ['step', 'epoch', 'time'] as const;
export type XMode = (typeof X_MODES)[number];

export const X_TITLES: Record<XMode, string> = {
  step: 'batches trained',
  epoch: 'epochs',
  time: 'seconds since the run started',
};

/** A moment of the run whose time is known: a step and the seconds elapsed at it. */
export interface TimeAnchor {
  step: number;
  seconds: number;
}

/**
 * Seconds since the start at any step, interpolated between the moments whose time is
 * known: live batches report it, but the kept history of a reopened dashboard has only
 * the time at each epoch's end, so its batches are placed evenly between those.
 */
export class Clock {
  private anchors: TimeAnchor[] = [{ step: 0, seconds: 0 }];

  /** Adds a moment; anchors stay sorted by step, and a later report for the same step wins. */
  add(step: number, seconds: number): void {
    if (!Number.isFinite(step) || !Number.isFinite(seconds)) return;
    const at = nearestIndex(this.anchors, step, (a) => a.step);
    const anchor = this.anchors[at];
    if (anchor.step === step) anchor.seconds = seconds;
    else this.anchors.splice(anchor.step < step ? at + 1 : at, 0, { step, seconds });
  }

  secondsAt(step: number): number {
    const anchors = this.anchors;
    if (anchors.length === 1) return 0;
    let at = nearestIndex(anchors, step, (a) => a.step);
    if (anchors[at].step === step) return anchors[at].seconds;
    // The segment around `step`, or the last one continued past the end.
    if (anchors[at].step < step) at = Math.min(at + 1, anchors.length - 1);
    const a = anchors[Math.max(at - 1, 0)];
    const b = anchors[Math.max(at, 1)];
    if (b.step === a.step) return b.seconds;
    return Math.max(0, a.seconds + ((step - a.step) * (b.seconds - a.seconds)) / (b.step - a.step));
  }
}

/** x of a step in the chosen mode. */
export function xOf(mode: XMode, step: number, batchesPerEpoch: number, clock: Clock): number {
  switch (mode) {
    case 'step':
      return step;
    case 'epoch':
      return step / Math.max(1, batchesPerEpoch);
    case 'time':
      return clock.secondsAt(step);
  }
}

/** Index of the item whose key is nearest to `x` in items sorted by that key (-1 when empty). */
export function nearestIndex<T>(items: readonly T[], x: number, key: (item: T) => number): number {
  if (items.length === 0) return -1;
  let low = 0;
  let high = items.length - 1;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (key(items[middle]) <= x) low = middle;
    else high = middle;
  }
  return Math.abs(key(items[low]) - x) <= Math.abs(key(items[high]) - x) ? low : high;
}
