/** Small statistics for timings. */

/** The p-th percentile (0–100) by the nearest-rank method. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Milliseconds `run` takes. */
export function timeMs(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}
