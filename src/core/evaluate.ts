/**
 * Evaluation of a trained model on held-out text (DESIGN.md §5): perplexity, nats per
 * character, top-1 and top-5 next-token accuracy, keystroke savings of the inline
 * suggestions, and the counting baselines on the same targets.
 */
import type * as tf from '@tensorflow/tfjs';
import type { CountingBaselines } from './baselines';
import { evaluationBatches } from './dataset';
import { describeHeldOut, natsPerCharacter } from './perCharacter';
import { DEFAULT_SUGGEST_OPTIONS, Predictor } from './predictor';
import { scoreBatches } from './scoring';
import type { SpellingModel } from './spelling';
import { scoreSuggestionModel, suggestionReport, type RunSuggestionModel } from './suggestionModel';
import type { Tokenizer } from './tokenizer';
import { simulateTyping } from './typing';
import type { EvalReport, SuggestionReport } from '../protocol/types';

/** Characters typed in the keystroke simulation: enough for a stable figure in seconds. */
export const KEYSTROKE_SAMPLE_CHARACTERS = 3000;

/** What a run folder saved besides its model: the counts of its baselines and its spelling model, if it has one. */
export interface RunCounts {
  ngrams: CountingBaselines;
  spelling?: SpellingModel;
  /** The run's suggestion model, scored beside the network alone when there is one. */
  suggestion?: RunSuggestionModel;
}

export interface EvaluateOptions {
  seqLen: number;
  batch: number;
  /** Whole words a suggestion may add (the extension's maxWords). */
  maxWords?: number;
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
  const maxWords = options.maxWords ?? DEFAULT_SUGGEST_OPTIONS.maxWords;
  // The network alone is typed with the thresholds the run's suggestions use, so the two compare.
  const { minConfidence, minNextWordConfidence } = counts.suggestion ?? DEFAULT_SUGGEST_OPTIONS;
  let suggestion: SuggestionReport | null = null;
  if (counts.suggestion) {
    const scored = scoreSuggestionModel(model, tokenizer, counts.suggestion, { text: heldOut, typed, seqLen: options.seqLen, batch: options.batch }, maxWords);
    suggestion = suggestionReport(counts.suggestion, scored, scored.typing, heldOut);
  }
  const predictor = new Predictor(model, tokenizer);
  try {
    return {
      tokens: score.tokens,
      loss: score.loss,
      perplexity: Math.exp(score.loss),
      natsPerChar: natsPerCharacter(score.loss * score.tokens, heldOut),
      top1Accuracy: score.accuracy,
      top5Accuracy: score.top5Accuracy,
      keystrokeSavings: simulateTyping(predictor, typed, { maxWords, minConfidence, minNextWordConfidence }).keystrokeSavings,
      suggestion,
      baselines: counts.ngrams.score(heldOut),
    };
  } finally {
    predictor.dispose();
  }
}

