/**
 * Which units follow which feature of the text: every unit's Pearson correlation with
 * every feature over a stretch of text, and the units ranked by its absolute value. A
 * unit that is high inside quotes and low outside ranks as high as one that does the
 * opposite; the sign says which.
 */
import { TEXT_FEATURES, type TextFeature, type UnitCorrelation } from '../../protocol/cells';
import type { FeatureValues } from './textFeatures';

/**
 * Pearson's r of each unit (column of `values`, laid out [steps × units]) with `feature`.
 * NaN where the feature never varies; 0 where the unit never does.
 */
export function unitCorrelations(values: Float32Array, units: number, feature: Float32Array): Float64Array {
  const steps = feature.length;
  if (values.length !== steps * units) throw new RangeError(`Expected ${steps} × ${units} values, got ${values.length}.`);
  const r = new Float64Array(units);
  let featureMean = 0;
  for (let t = 0; t < steps; t++) featureMean += feature[t];
  featureMean /= steps;
  let featureSquares = 0;
  for (let t = 0; t < steps; t++) featureSquares += (feature[t] - featureMean) ** 2;
  if (!(featureSquares > 0)) return r.fill(NaN);
  const means = new Float64Array(units);
  for (let t = 0; t < steps; t++) for (let u = 0; u < units; u++) means[u] += values[t * units + u];
  for (let u = 0; u < units; u++) means[u] /= steps;
  const cross = new Float64Array(units);
  const squares = new Float64Array(units);
  for (let t = 0; t < steps; t++) {
    const f = feature[t] - featureMean;
    const row = t * units;
    for (let u = 0; u < units; u++) {
      const v = values[row + u] - means[u];
      cross[u] += v * f;
      squares[u] += v * v;
    }
  }
  for (let u = 0; u < units; u++) r[u] = squares[u] > 0 ? cross[u] / Math.sqrt(squares[u] * featureSquares) : 0;
  return r;
}

/** For each feature, the `top` units with the largest |r| (strongest first); none for a feature that never varies. */
export function rankUnits(values: Float32Array, units: number, features: FeatureValues, top: number): Record<TextFeature, UnitCorrelation[]> {
  const ranking = {} as Record<TextFeature, UnitCorrelation[]>;
  for (const feature of TEXT_FEATURES) {
    const r = unitCorrelations(values, units, features[feature]);
    ranking[feature] = Array.from(r, (value, unit) => ({ unit, r: value }))
      .filter((c) => Number.isFinite(c.r))
      .sort((a, b) => Math.abs(b.r) - Math.abs(a.r) || a.unit - b.unit)
      .slice(0, top);
  }
  return ranking;
}
