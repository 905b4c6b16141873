/**
 * Evaluation of a trained model on held-out text (DESIGN.md §5): perplexity, top-1 and
 * top-5 next-token accuracy, keystroke savings of the inline suggestions, and the
 * counting baselines on the same targets.
 */
import type * as tf from '@tensorflow/tfjs';
import type { NgramCounts } from './baselines';
import { evaluationBatches } from './dataset';
import { Predictor, type SuggestOptions } from './predictor';
import { scoreBatches } from './scoring';
import type { Tokenizer } from './tokenizer';
import type { EvalReport } from '../protocol/types';

/** Suggestion settings the keystroke simulation uses unless told otherwise (the extension's defaults). */
export const DEFAULT_SUGGEST_OPTIONS: SuggestOptions = { maxWords: 3, minConfidence: 0.3 };

/** Characters typed in the keystroke simulation: enough for a stable figure in seconds. */
export const KEYSTROKE_SAMPLE_CHARACTERS = 3000;

export interface EvaluateOptions {
  seqLen: number;
  batch: number;
  suggest?: SuggestOptions;
  keystrokeCharacters?: number;
}

/** Evaluates on a new text, typed for the keystroke simulation as SeqLab would space it. */
export function evaluateText(
  model: tf.LayersModel,
  tokenizer: Tokenizer,
  ngrams: NgramCounts,
  text: string,
  options: EvaluateOptions,
): Promise<EvalReport> {
  const characters = options.keystrokeCharacters ?? KEYSTROKE_SAMPLE_CHARACTERS;
  // Unknown words stay as they are in the typed text: the person types them all the same.
  const typed = tokenizer.detokenize(tokenizer.tokenize(text.slice(0, characters * 2)));
  return evaluateStream(model, tokenizer, ngrams, tokenizer.encode(text), typed, options);
}

/** Evaluates on a token stream already encoded, e.g. a run's validation split. */
export function evaluateTokens(
  model: tf.LayersModel,
  tokenizer: Tokenizer,
  ngrams: NgramCounts,
  ids: Int32Array,
  options: EvaluateOptions,
): Promise<EvalReport> {
  // Every token is at least one character, so this many tokens cover the typed sample.
  const characters = options.keystrokeCharacters ?? KEYSTROKE_SAMPLE_CHARACTERS;
  return evaluateStream(model, tokenizer, ngrams, ids, tokenizer.decode(ids.subarray(0, characters)), options);
}

async function evaluateStream(
  model: tf.LayersModel,
  tokenizer: Tokenizer,
  ngrams: NgramCounts,
  ids: Int32Array,
  typed: string,
  options: EvaluateOptions,
): Promise<EvalReport> {
  const score = await scoreBatches(model, evaluationBatches(ids, options.seqLen, options.batch), true);
  const predictor = new Predictor(model, tokenizer);
  try {
    const sample = typed.slice(0, options.keystrokeCharacters ?? KEYSTROKE_SAMPLE_CHARACTERS);
    return {
      tokens: score.tokens,
      loss: score.loss,
      perplexity: Math.exp(score.loss),
      top1Accuracy: score.accuracy,
      top5Accuracy: score.top5Accuracy,
      keystrokeSavings: keystrokeSavings(predictor, sample, options.suggest ?? DEFAULT_SUGGEST_OPTIONS),
      baselines: ngrams.score(ids),
    };
  } finally {
    predictor.dispose();
  }
}

/**
 * Simulates a person typing `text` with suggestions on: wherever the suggestion matches
 * the next characters exactly it is accepted with one key (Tab), otherwise one character
 * is typed. Returns 1 − keys pressed / characters typed.
 */
export function keystrokeSavings(predictor: Predictor, text: string, options: SuggestOptions): number {
  if (text.length === 0) return 0;
  let position = 0;
  let keys = 0;
  while (position < text.length) {
    const suggestion = predictor.suggest(text.slice(0, position), options);
    keys++;
    position += suggestion && text.startsWith(suggestion.text, position) ? suggestion.text.length : 1;
  }
  return 1 - keys / text.length;
}
