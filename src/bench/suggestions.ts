/**
 * Inline-suggestion latency as the engine sees it: one Predictor (stateful cache and all)
 * asked for a suggestion at every keystroke while a person types a chapter, timed around
 * `suggest`, the call the language server makes for an inline completion.
 */
import type * as tf from '@tensorflow/tfjs';
import type { AdaptationSettings } from '../core/adaptation';
import { Predictor } from '../core/predictor';
import type { Tokenizer } from '../core/tokenizer';
import { percentile } from './stats';

export interface LatencyFigures {
  words: number;
  /** The vocabulary of this row's model; absent in reports saved before rows differed in it (the report's vocabSize). */
  vocabSize?: number;
  /** The network learnt from the chapter as it was typed (adaptation.ts); the steps it took. */
  adaptationSteps: number;
  /** Median and longest step, ms: taken between keystrokes, as the engine does, so not in the figures above. */
  stepMedian?: number;
  stepMax?: number;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** Requests that re-read the text (the first one, with the preceding chapter). */
  fullPasses: number;
  /** Tokens fed through the network over all requests. */
  tokensRead: number;
}

/**
 * Types `chapter` one character at a time after `before`, asking for `words` words at each
 * keystroke. minConfidence 0 makes every suggestion run to its full length: the worst case.
 * With `adaptation`, the network learns from the chapter as it is typed (adaptation.ts).
 */
export function suggestionLatency(
  model: tf.LayersModel,
  tokenizer: Tokenizer,
  before: string,
  chapter: string,
  words: number,
  requests: number,
  adaptation?: AdaptationSettings,
): LatencyFigures {
  const predictor = new Predictor(model, tokenizer, undefined, adaptation);
  const times: number[] = [];
  const steps: number[] = [];
  try {
    for (let typed = 1; typed <= Math.min(requests, chapter.length); typed++) {
      const text = before + chapter.slice(0, typed);
      const start = performance.now();
      predictor.suggest(text, { maxWords: words, minConfidence: 0 });
      times.push(performance.now() - start);
      // The engine takes a step made due after answering the keystroke (models.ts).
      const stepStart = performance.now();
      if (predictor.learnPending()) steps.push(performance.now() - stepStart);
    }
  } finally {
    predictor.dispose();
  }
  return {
    words,
    adaptationSteps: predictor.stats.adaptationSteps,
    ...(steps.length > 0 && { stepMedian: percentile(steps, 50), stepMax: Math.max(...steps) }),
    requests: times.length,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    max: Math.max(...times),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    fullPasses: predictor.stats.fullPasses,
    tokensRead: predictor.stats.tokensRead,
  };
}
