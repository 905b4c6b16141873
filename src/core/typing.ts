/**
 * A person typing a text with SeqLab's ghost text on (DESIGN.md §5): wherever the
 * suggestion matches the next characters exactly it is accepted with one key (Tab),
 * otherwise one character is typed. From that: keystroke savings, and how the suggestions
 * do at word starts, where a next-word suggestion is all there is to go on.
 */
import { pickGhost, type Ghosts, type Predictor, type Suggestion, type SuggestOptions } from './predictor';
import { isWordLike } from './tokenizer';

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
  const savings = keystrokeSavings(text, (position) => predictor.suggest(text.slice(0, position), options));
  return { keystrokeSavings: savings, ...wordStarts(predictor, text, options) };
}

/**
 * 1 − keys / characters, accepting a suggestion with one key whenever it matches what comes
 * next; `ghostAt(position)` is the suggestion with the cursor there.
 */
function keystrokeSavings(text: string, ghostAt: (position: number) => Suggestion | undefined): number {
  let position = 0;
  let keys = 0;
  while (position < text.length) {
    const suggestion = ghostAt(position);
    keys++;
    position += suggestion && text.startsWith(suggestion.text, position) ? suggestion.text.length : 1;
  }
  return text.length > 0 ? 1 - keys / text.length : 0;
}

/** A ghost at a word start: the highest threshold at which it shows, and whether its first word is the next word. */
interface WordStartGuess {
  shownUpTo: number;
  right: boolean;
}

/**
 * The suggestion at every word start of the text (each position right after whitespace),
 * whatever the typist would have accepted before it: typing skips the word starts whose
 * word was already accepted from before the space, which are the easy ones. A start where
 * nothing shows at the options' threshold has no guess.
 */
function wordStartGuesses(predictor: Predictor, text: string, options: SuggestOptions): (WordStartGuess | undefined)[] {
  const guesses: (WordStartGuess | undefined)[] = [];
  for (let position = 1; position < text.length; position++) {
    if (!/\s/.test(text[position - 1]) || /\s/.test(text[position])) continue;
    const before = text.slice(0, position);
    const suggestion = predictor.suggest(before, options);
    if (!suggestion) {
      guesses.push(undefined);
      continue;
    }
    // An opening quote or bracket comes with the word it opens: '"I' is not right before '"Ah'.
    const word = suggestion.tokens.findIndex(isWordLike);
    const firstWord = predictor.tokenizer.continuation(before, suggestion.tokens.slice(0, word < 0 ? 1 : word + 1));
    guesses.push({ shownUpTo: suggestion.shownUpTo, right: !!firstWord && isNextWord(text, position, firstWord) });
  }
  return guesses;
}

/** The word-start figures of showing next-word ghosts from `threshold` on. */
function wordStartFigures(guesses: readonly (WordStartGuess | undefined)[], threshold: number): Omit<TypingFigures, 'keystrokeSavings'> {
  const shown = guesses.filter((guess) => guess !== undefined && guess.shownUpTo >= threshold);
  const right = shown.filter((guess) => guess!.right).length;
  return {
    wordStarts: guesses.length,
    wordStartOffered: guesses.length > 0 ? shown.length / guesses.length : 0,
    wordStartFirstWordRight: shown.length > 0 ? right / shown.length : 0,
  };
}

function wordStarts(predictor: Predictor, text: string, options: SuggestOptions): Omit<TypingFigures, 'keystrokeSavings'> {
  return wordStartFigures(wordStartGuesses(predictor, text, options), options.minNextWordConfidence ?? options.minConfidence);
}

const WORD_CHARACTER = /[\p{L}\p{N}_]/u;

/**
 * `word` is what `text` has at `position`, as a whole: "the" is not right before "there",
 * but an opening quote is right before the quoted word (a quote mark ends no word).
 */
export function isNextWord(text: string, position: number, word: string): boolean {
  if (!text.startsWith(word, position)) return false;
  return !WORD_CHARACTER.test(word[word.length - 1]) || !WORD_CHARACTER.test(text[position + word.length] ?? ' ');
}

/**
 * Confidence thresholds tried when a run picks its own. A wrong ghost costs the person a
 * glance, so the thresholds are fitted on held-out text rather than one fixed number for
 * every model and text.
 */
export const CONFIDENCE_CANDIDATES = [0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6];

/**
 * Thresholds tried for next-word ghosts: the same range in steps of 0.01. How often they
 * show falls steeply with the threshold (on prose, from 0.2 to 0.3 by a third), so the
 * coarse steps above would give away many right guesses; one pass over the text gives
 * every step's figures (Suggestion.shownUpTo).
 */
export const NEXT_WORD_CANDIDATES = Array.from({ length: 56 }, (_, k) => (5 + k) / 100);

/**
 * How often a next-word ghost must be right to be worth showing. At a word start nothing
 * of the word is typed yet: the ghost is a guess at the person's next word, which they read
 * in full, and it saves few keys over completing the word after its first letter. So a run
 * shows one only at a confidence where such guesses were right at least two times in five
 * on its validation text.
 */
export const NEXT_WORD_PRECISION = 0.4;

/**
 * Characters of held-out text typed to fit the thresholds: the completion threshold's
 * keystroke savings are stable over the first 1,500, while how often next-word ghosts are
 * right needs many more word starts: over 1,000 (6,000 characters) the share right at one
 * threshold still differed by 7 points from the rest of a novel's held-out text. One pass
 * over 15,000 characters (about 2,500 word starts) gives every threshold's figures.
 */
const KEYSTROKE_TUNING_CHARACTERS = 1500;
export const TUNING_CHARACTERS = 15000;

export interface Thresholds {
  /** For completing the word being typed (and the words after it). */
  minConfidence: number;
  /** For a next-word ghost at a word start. */
  minNextWordConfidence: number;
}

/**
 * The thresholds a run suggests with, fitted on held-out text `held` (up to TUNING_CHARACTERS
 * of it): for next-word ghosts, the lowest candidate at which they are right at least
 * NEXT_WORD_PRECISION of the times shown (the strictest candidate if none is); then for
 * completions, the candidate that saves the most keystrokes. Returns the figures of
 * typing the text with both: keystrokes over its first KEYSTROKE_TUNING_CHARACTERS.
 */
export function chooseThresholds(predictor: Predictor, held: string, maxWords: number): Thresholds & { figures: TypingFigures } {
  const text = held.slice(0, KEYSTROKE_TUNING_CHARACTERS);
  const wordStartText = held.slice(0, TUNING_CHARACTERS);
  predictor.reset();
  // Ghosts the lowest candidate would not show cannot change any candidate's figures.
  const guesses = wordStartGuesses(predictor, wordStartText, { maxWords, minConfidence: NEXT_WORD_CANDIDATES[0] });
  const minNextWordConfidence =
    NEXT_WORD_CANDIDATES.find((threshold) => {
      const figures = wordStartFigures(guesses, threshold);
      return figures.wordStartOffered > 0 && figures.wordStartFirstWordRight >= NEXT_WORD_PRECISION;
    }) ?? NEXT_WORD_CANDIDATES[NEXT_WORD_CANDIDATES.length - 1];
  const ghosts = ghostsAtEveryPosition(predictor, text, { maxWords, minConfidence: Math.min(...CONFIDENCE_CANDIDATES), minNextWordConfidence });
  let best: { minConfidence: number; savings: number } | undefined;
  for (const minConfidence of CONFIDENCE_CANDIDATES) {
    const savings = keystrokeSavings(text, (position) => pickGhost(ghosts[position], { maxWords, minConfidence, minNextWordConfidence }));
    if (!best || savings > best.savings) best = { minConfidence, savings };
  }
  const thresholds = { minConfidence: best!.minConfidence, minNextWordConfidence };
  return { ...thresholds, figures: { keystrokeSavings: best!.savings, ...wordStartFigures(guesses, minNextWordConfidence) } };
}

/**
 * The ghosts at every cursor position of `text` down to the options' thresholds, read from
 * a fresh start in one pass: what a ghost is at a position depends only on the text before
 * it (the document caches included), so every threshold's typing of the text picks from
 * these instead of running the model again where the passes meet.
 */
function ghostsAtEveryPosition(predictor: Predictor, text: string, options: SuggestOptions): Ghosts[] {
  predictor.reset();
  return Array.from({ length: text.length }, (_, position) => predictor.ghosts(text.slice(0, position), options));
}
