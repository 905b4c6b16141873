/**
 * Drawing the next token of generated text from a model's probabilities: temperature,
 * then nucleus (top-p) sampling (Holtzman et al. 2020, "The Curious Case of Neural Text
 * Degeneration"). A small model's long tail of unlikely words is where sampled text turns
 * into word salad, while always taking the likeliest word loops ("of the whale, and the
 * whale of the whale"); drawing only from the likeliest words that make up `topP` of the
 * probability avoids both.
 */
import type { Random } from './random';

export interface SamplingOptions {
  /** 0 = always the most likely token; higher = more varied. */
  temperature: number;
  /** Draw only from the likeliest tokens that together hold this share of the probability (1 = all of them). */
  topP?: number;
}

/** The id of the token drawn from `probabilities` (which need not sum to one). */
export function drawToken(probabilities: Float32Array, { temperature, topP = 1 }: SamplingOptions, random: Random): number {
  if (temperature <= 0) return argMax(probabilities);
  const weights = new Float64Array(probabilities.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    weights[i] = probabilities[i] > 0 ? Math.pow(probabilities[i], 1 / temperature) : 0;
    total += weights[i];
  }
  if (topP < 1) total = keepNucleus(weights, topP * total);
  let r = random.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r <= 0 && weights[i] > 0) return i;
  }
  return argMax(probabilities);
}

/** Zeroes every weight outside the fewest likeliest that reach `share`; returns the sum of those kept. */
function keepNucleus(weights: Float64Array, share: number): number {
  const order = Array.from(weights.keys()).sort((a, b) => weights[b] - weights[a]);
  let kept = 0;
  let k = 0;
  while (k < order.length && kept < share) kept += weights[order[k++]];
  for (; k < order.length; k++) weights[order[k]] = 0;
  return kept;
}

export function argMax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
