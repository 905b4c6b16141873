/**
 * Drawing the next token of generated text from a model's probabilities: temperature,
 * then nucleus (top-p) sampling (Holtzman et al. 2020, "The Curious Case of Neural Text
 * Degeneration"). A small model's long tail of unlikely words is where sampled text turns
 * into word salad; drawing only from the likeliest words that make up `topP` of the
 * probability cuts the tail. Always taking the likeliest word (temperature 0) reads as
 * phrases of the text but soon loops ("of the whale, and the whale of the whale"), which
 * `noRepeat` prevents: a run of that many tokens is never written twice (the
 * no-repeat-n-gram rule of common decoders). Taking the likeliest word each time can take
 * a likely first word into an unlikely phrase; following a few continuations at once and
 * keeping the likeliest whole one (beam search, `beam`) avoids that, but tends to write
 * the same likeliest sentence after any prompt (README, "generate").
 */
import type { Random } from './random';

export interface SamplingOptions {
  /** 0 = always the most likely token; higher = more varied. */
  temperature: number;
  /** Draw only from the likeliest tokens that together hold this share of the probability (1 = all of them). */
  topP?: number;
  /** Never write a run of this many tokens that the text already holds (0 or absent: no such rule). */
  noRepeat?: number;
  /**
   * At temperature 0: follow this many likeliest continuations word by word and write the
   * likeliest whole one (beam search); 1 or absent: the likeliest next word each time.
   */
  beam?: number;
}

/** The widest beam `beam` may name: each word written costs a step of the network per continuation followed. */
export const MAX_BEAM = 32;

/** The longest run of tokens `noRepeat` may name: longer runs hardly ever repeat. */
export const MAX_NO_REPEAT = 10;

/**
 * Zeroes, in place, the probability of every token that would end a run of `n` tokens
 * already in `history` (its last n − 1 tokens followed by that token, earlier in it). If
 * that would leave no token to draw, the probabilities stay as they are: a repeat is
 * better than no text.
 */
export function blockRepeats(probabilities: Float32Array, history: readonly number[], n: number): void {
  if (!(n >= 1) || history.length < n - 1) return;
  const tail = history.length - (n - 1);
  const blocked = new Set<number>();
  for (let start = 0; start + n <= history.length; start++) {
    let same = true;
    for (let k = 0; k < n - 1 && same; k++) same = history[start + k] === history[tail + k];
    if (same) blocked.add(history[start + n - 1]);
  }
  if (!probabilities.some((p, id) => p > 0 && !blocked.has(id))) return;
  for (const id of blocked) probabilities[id] = 0;
}

/** How text is drawn, in words, for the lines that show a sample. */
export function describeSampling({ temperature, topP = 1, noRepeat = 0, beam = 1 }: SamplingOptions, seed?: number): string {
  const likeliest = beam > 1 ? `the likeliest of ${beam} continuations followed side by side` : 'the likeliest word each time';
  const drawn = temperature <= 0 ? likeliest : `temperature ${temperature}${topP < 1 ? `, top-p ${topP}` : ''}${seed === undefined ? '' : `, seed ${seed}`}`;
  return noRepeat > 0 ? `${drawn}, never the same ${noRepeat} ${noRepeat === 1 ? 'token' : 'tokens'} twice` : drawn;
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
