/**
 * Evaluation of a trained model on held-out text (DESIGN.md §5): perplexity, nats per
 * character, top-1 and top-5 next-token accuracy, keystroke savings of the inline
 * suggestions, and the counting baselines on the same targets.
 */
import type * as tf from '@tensorflow/tfjs';
import type { CountingBaselines } from './baselines';
import { evaluationBatches } from './dataset';
import { describeHeldOut, natsPerCharacter } from './perCharacter';
import { Predictor, type SuggestOptions } from './predictor';
import { scoreBatches } from './scoring';
import type { SpellingModel } from './spelling';
import type { Tokenizer } from './tokenizer';
import type { EvalReport } from '../protocol/types';

/** Suggestion settings the keystroke simulation uses unless told otherwise (the extension's defaults). */
export const DEFAULT_SUGGEST_OPTIONS: SuggestOptions = { maxWords: 3, minConfidence: 0.3 };

/** Characters typed in the keystroke simulation: enough for a stable figure in seconds. */
export const KEYSTROKE_SAMPLE_CHARACTERS = 3000;

/** What a run folder saved besides its model: the counts of its baselines and its spelling model, if it has one. */
export interface RunCounts {
  ngrams: CountingBaselines;
  spelling?: SpellingModel;
}

export interface EvaluateOptions {
  seqLen: number;
  batch: number;
  suggest?: SuggestOptions;
  keystrokeCharacters?: number;
}

/**
 * Evaluates on a text (a new one, or a run's validation part), typed for the keystroke
 * simulation as SeqLab would space it.
 */
export async function evaluateText(
  model: tf.LayersModel,
  tokenizer: Tokenizer,
  counts: RunCounts,
  text: string,
  options: EvaluateOptions,
): Promise<EvalReport> {
  const characters = options.keystrokeCharacters ?? KEYSTROKE_SAMPLE_CHARACTERS;
  const tokens = tokenizer.tokenize(text);
  const heldOut = describeHeldOut(text, tokens, tokenizer.encodeTokens(tokens), tokenizer.unknownId, counts.spelling);
  // Unknown words stay as they are in the typed text: the person types them all the same.
  const typed = tokenizer.detokenize(tokenizer.tokenize(text.slice(0, characters * 2))).slice(0, characters);
  const score = await scoreBatches(model, evaluationBatches(heldOut.ids, options.seqLen, options.batch), true);
  const predictor = new Predictor(model, tokenizer);
  try {
    return {
      tokens: score.tokens,
      loss: score.loss,
      perplexity: Math.exp(score.loss),
      natsPerChar: natsPerCharacter(score.loss * score.tokens, heldOut),
      top1Accuracy: score.accuracy,
      top5Accuracy: score.top5Accuracy,
      keystrokeSavings: keystrokeSavings(predictor, typed, options.suggest ?? DEFAULT_SUGGEST_OPTIONS),
      baselines: counts.ngrams.score(heldOut),
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
