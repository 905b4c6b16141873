/**
 * Simple facts about the text at each token, the kind an interpretable unit might track
 * (Karpathy et al. found LSTM cells for quotes, line position and brackets). Each is the
 * value after reading the token, as a unit's h is: an opening quote mark is already
 * inside the quote, a closing one already outside. They read the tokens and their places
 * in the text only, so they cost a pass over the tokens.
 */
import { TEXT_FEATURES, type TextFeature } from '../../protocol/cells';
import { NEWLINE_TOKEN, type TokenSpan } from '../tokenizer';

/** Straight double quotes open and close alternately; curly ones say which they are. */
const OPENING_QUOTES = new Set(['“', '«']);
const CLOSING_QUOTES = new Set(['”', '»']);
const STRAIGHT_QUOTE = '"';
const SENTENCE_ENDS = new Set(['.', '!', '?', '…']);
const CAPITAL = /^\p{Lu}/u;

export type FeatureValues = Record<TextFeature, Float32Array>;

/**
 * The features of every token. A paragraph break (a blank line) closes any quote or
 * parenthesis left open, so one unmatched mark cannot mark the rest of a book as quoted;
 * a single line break does not, so a quote that spans lines stays open.
 */
export function textFeatures(spans: readonly TokenSpan[], text: string): FeatureValues {
  const n = spans.length;
  const values = Object.fromEntries(TEXT_FEATURES.map((f) => [f, new Float32Array(n)])) as FeatureValues;
  let inQuote = false;
  let parentheses = 0;
  let newlines = 0;
  let previous = '';
  let sinceSentenceEnd = 0;
  // The start of the current line, found by reading the text once, up to each token.
  let lineStart = 0;
  let read = 0;
  for (let i = 0; i < n; i++) {
    const { token, start } = spans[i];
    for (; read < start; read++) {
      const c = text.charCodeAt(read);
      if (c === 10 || c === 13) lineStart = read + 1;
    }
    if (token === NEWLINE_TOKEN) {
      if (++newlines >= 2) {
        inQuote = false;
        parentheses = 0;
      }
    } else {
      newlines = 0;
      if (token === STRAIGHT_QUOTE) inQuote = !inQuote;
      else if (OPENING_QUOTES.has(token)) inQuote = true;
      else if (CLOSING_QUOTES.has(token)) inQuote = false;
      else if (token === '(') parentheses++;
      else if (token === ')') parentheses = Math.max(0, parentheses - 1);
    }
    values.inQuotes[i] = inQuote ? 1 : 0;
    values.inParentheses[i] = parentheses > 0 ? 1 : 0;
    values.afterFullStop[i] = SENTENCE_ENDS.has(previous) ? 1 : 0;
    sinceSentenceEnd = SENTENCE_ENDS.has(previous) ? 0 : i === 0 ? 0 : sinceSentenceEnd + 1;
    values.wordsIntoSentence[i] = sinceSentenceEnd;
    values.lineColumn[i] = token === NEWLINE_TOKEN ? 0 : start - lineStart;
    values.capitalised[i] = CAPITAL.test(token) ? 1 : 0;
    values.wordLength[i] = token === NEWLINE_TOKEN ? 0 : [...token].length;
    previous = token;
  }
  return values;
}
