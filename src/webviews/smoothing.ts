/**
 * TensorBoard's smoothing: an exponential moving average with the start-up bias removed.
 * A plain EMA starts at 0 and so drags the first points towards 0; dividing by
 * 1 − w^t (the weight the real points have had so far) makes the first smoothed point
 * the first value itself, the curve then follows the data with the chosen inertia.
 * Pure, so that test/unit/dashboardLogic.test.ts checks it.
 */

export interface XY {
  x: number;
  y: number;
}

/**
 * Smoothed copies of `points` for a weight in [0, 1): 0 returns the values as they are,
 * 0.99 follows the trend of about the last hundred points. Non-finite values pass
 * through unchanged and do not disturb the average.
 */
export function smooth<P extends XY>(points: readonly P[], weight: number): XY[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  let average = 0;
  let counted = 0;
  return points.map(({ x, y }) => {
    if (!Number.isFinite(y) || w === 0) return { x, y };
    average = average * w + (1 - w) * y;
    counted++;
    return { x, y: average / (1 - w ** counted) };
  });
}
