/**
 * How the dashboard's axes are scaled and labelled. Pure, for test/unit/dashboardLogic.test.ts.
 *
 * - Tick labels: chart.js picks tick values (steps of 1, 2 or 5 × 10^k); labels need
 *   as many decimals as tell them apart. A fixed two decimals wrote "6.26" twelve times
 *   on the early loss axis, whose range is a few thousandths wide.
 * - "Ignore outliers": a loss of 9 at the first batch squashes the curve that matters
 *   into a flat line; TensorBoard then scales to the bulk of the values. We take the
 *   5th to 95th percentile and add a margin.
 */

/** Labels for a scale's tick values: the fewest decimals (up to 8) that keep every label different. */
export function tickLabels(values: readonly number[], format: (value: number, decimals: number) => string = (v, d) => v.toFixed(d)): string[] {
  let decimals = 0;
  const sorted = [...values].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    const gap = sorted[i] - sorted[i - 1];
    // A gap of 0.05 needs 2 decimals; the same gap a float error away (0.04999…) too.
    if (gap > 0) decimals = Math.max(decimals, Math.ceil(-Math.log10(gap) - 1e-9));
  }
  decimals = Math.min(Math.max(decimals, 0), 8);
  let labels = values.map((v) => format(v, decimals));
  while (new Set(labels).size < new Set(values).size && decimals < 8) {
    decimals++;
    labels = values.map((v) => format(v, decimals));
  }
  return labels;
}

/** The q-quantile (0..1) of sorted values, interpolating between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * Math.min(Math.max(q, 0), 1);
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

export interface Range {
  min: number;
  max: number;
}

/**
 * The y range to draw `values` in: all of them, or with `ignoreOutliers` the 5th to the
 * 95th percentile, widened by a margin so the curve does not touch the frame. On a log
 * scale only positive values count and the margin is a factor. Undefined when there is
 * nothing to draw: the chart then picks its own.
 */
export function yRange(values: readonly number[], { ignoreOutliers, log }: { ignoreOutliers: boolean; log: boolean }): Range | undefined {
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0)).sort((a, b) => a - b);
  if (usable.length === 0) return undefined;
  const trim = ignoreOutliers && usable.length >= 20;
  let min = trim ? quantile(usable, 0.05) : usable[0];
  let max = trim ? quantile(usable, 0.95) : usable[usable.length - 1];
  if (log) {
    // chart.js labels a log axis's ends too: two significant digits keep them round ("4.2", not "4.2713").
    const factor = max > min ? (max / min) ** 0.05 : 1.1;
    return { min: toSignificant(min / factor, 2, Math.floor), max: toSignificant(max * factor, 2, Math.ceil) };
  }
  const margin = max > min ? (max - min) * 0.05 : Math.abs(max) * 0.05 || 0.5;
  min -= margin;
  max += margin;
  return niceRange(min, max);
}

/** [min, max] widened to multiples of a 1-2-5 step that cuts it into about `ticks` parts, so the ticks fall on round numbers. */
export function niceRange(min: number, max: number, ticks = 5): Range {
  const step = niceStep((max - min) / ticks);
  // toPrecision drops the float noise of k × step (41 × 0.1 = 4.1000000000000005).
  const round = (x: number) => Number(x.toPrecision(12));
  return { min: round(Math.floor(min / step + 1e-9) * step), max: round(Math.ceil(max / step - 1e-9) * step) };
}

/** `value` rounded (down or up, by `round`) to `digits` significant digits. */
function toSignificant(value: number, digits: number, round: (x: number) => number): number {
  const scale = 10 ** (Math.floor(Math.log10(value)) - digits + 1);
  return Number((round(value / scale) * scale).toPrecision(12));
}

function niceStep(rough: number): number {
  if (!(rough > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}
