/**
 * A person typing a text with SeqLab's ghost text on (DESIGN.md §5): wherever the
 * suggestion matches the next characters exactly it is accepted with one key (Tab),
 * otherwise one character is typed. From that: keystroke savings, and how the suggestions
 * do at word starts, where a next-word suggestion is all there is to go on.
 */
import type { Predictor, SuggestOptions } from './predictor';

export interface TypingFigures {
  /** 1 − keys pressed / characters typed. */
  keystrokeSavings: number;
  /** Word starts in the text (a word right after whitespace). */
  wordStarts: number;
  /** Share of word starts where a suggestion was shown. */
  wordStartOffered: number;
  /** Share of the suggestions shown at word starts whose first word was the next word. */
  wordStartFirstWordRight: number;
}

/** Keystroke savings and word-start figures of typing `text` with the ghost text. */
export function simulateTyping(predictor: Predictor, text: string, options: SuggestOptions): TypingFigures {
  return { keystrokeSavings: keystrokeSavings(predictor, text, options), ...wordStarts(predictor, text, options) };
}

/** 1 − keys / characters, accepting a suggestion with one key whenever it matches what comes next. */
function keystrokeSavings(predictor: Predictor, text: string, options: SuggestOptions): number {
  let position = 0;
  let keys = 0;
  while (position < text.length) {
    const suggestion = predictor.suggest(text.slice(0, position), options);
    keys++;
    position += suggestion && text.startsWith(suggestion.text, position) ? suggestion.text.length : 1;
  }
  return text.length > 0 ? 1 - keys / text.length : 0;
}

/**
 * The suggestion at every word start of the text (each position right after whitespace),
 * whatever the typist would have accepted before it: typing skips the word starts whose
 * word was already accepted from before the space, which are the easy ones.
 */
function wordStarts(predictor: Predictor, text: string, options: SuggestOptions): Omit<TypingFigures, 'keystrokeSavings'> {
  let starts = 0;
  let offered = 0;
  let right = 0;
  for (let position = 1; position < text.length; position++) {
    if (!/\s/.test(text[position - 1]) || /\s/.test(text[position])) continue;
    starts++;
    const before = text.slice(0, position);
    const suggestion = predictor.suggest(before, options);
    if (!suggestion) continue;
    offered++;
    const firstWord = predictor.tokenizer.continuation(before, suggestion.tokens.slice(0, 1));
    // The whole next word: "the" is not right before "there".
    const end = position + firstWord.length;
    if (firstWord && text.startsWith(firstWord, position) && !WORD_CHARACTER.test(text[end] ?? ' ')) right++;
  }
  return {
    wordStarts: starts,
    wordStartOffered: starts > 0 ? offered / starts : 0,
    wordStartFirstWordRight: offered > 0 ? right / offered : 0,
  };
}

const WORD_CHARACTER = /[\p{L}\p{N}_]/u;

/**
 * Confidence thresholds tried when a run picks its own. A wrong ghost costs the person a
 * glance, so the threshold is the one that saves the most keys on held-out text rather
 * than one fixed number for every model and text.
 */
export const CONFIDENCE_CANDIDATES = [0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6];

/** The threshold of CONFIDENCE_CANDIDATES that saves the most keystrokes typing `text`, with its figures. */
export function chooseMinConfidence(
  predictor: Predictor,
  text: string,
  maxWords: number,
): { minConfidence: number; figures: TypingFigures } {
  let best: { minConfidence: number; savings: number } | undefined;
  for (const minConfidence of CONFIDENCE_CANDIDATES) {
    predictor.reset();
    const savings = keystrokeSavings(predictor, text, { maxWords, minConfidence });
    if (!best || savings > best.savings) best = { minConfidence, savings };
  }
  const options = { maxWords, minConfidence: best!.minConfidence };
  return { minConfidence: options.minConfidence, figures: { keystrokeSavings: best!.savings, ...wordStarts(predictor, text, options) } };
}
