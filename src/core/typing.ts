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
  /** Word starts (the cursor right after whitespace) the typist reached. */
  wordStarts: number;
  /** Share of word starts where a suggestion was shown. */
  wordStartOffered: number;
  /** Share of the suggestions shown at word starts whose first word was the next word. */
  wordStartFirstWordRight: number;
}

export function simulateTyping(predictor: Predictor, text: string, options: SuggestOptions): TypingFigures {
  let position = 0;
  let keys = 0;
  let wordStarts = 0;
  let offered = 0;
  let firstWordRight = 0;
  while (position < text.length) {
    const before = text.slice(0, position);
    const suggestion = predictor.suggest(before, options);
    if (/\s$/.test(before)) {
      wordStarts++;
      if (suggestion) {
        offered++;
        const firstWord = predictor.tokenizer.continuation(before, suggestion.tokens.slice(0, 1));
        if (firstWord && text.startsWith(firstWord, position)) firstWordRight++;
      }
    }
    keys++;
    position += suggestion && text.startsWith(suggestion.text, position) ? suggestion.text.length : 1;
  }
  return {
    keystrokeSavings: text.length > 0 ? 1 - keys / text.length : 0,
    wordStarts,
    wordStartOffered: wordStarts > 0 ? offered / wordStarts : 0,
    wordStartFirstWordRight: offered > 0 ? firstWordRight / offered : 0,
  };
}

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
  let best: { minConfidence: number; figures: TypingFigures } | undefined;
  for (const minConfidence of CONFIDENCE_CANDIDATES) {
    predictor.reset();
    const figures = simulateTyping(predictor, text, { maxWords, minConfidence });
    if (!best || figures.keystrokeSavings > best.figures.keystrokeSavings) best = { minConfidence, figures };
  }
  return best!;
}
