/**
 * Where each token of a text sits in it. The tokenizer drops whitespace and hands back
 * tokens only; the inspector must colour the words where they stand, so the tokens are
 * found again, in order, in the text they came from.
 */
import { NEWLINE_TOKEN, type Tokenizer } from '../tokenizer';

export interface TokenSpan {
  token: string;
  /** Offsets in the text: [start, end). */
  start: number;
  end: number;
}

/** The tokens `tokenizer` reads in `text`, each with its place there. */
export function tokenSpans(tokenizer: Tokenizer, text: string): TokenSpan[] {
  const tokens = tokenizer.tokenize(text);
  // A lower-casing tokenizer returns lower-cased tokens; look for them in lower-cased text
  // (the same length for all but a few letters, such as the Turkish dotted I).
  const haystack = tokenizer.options.lowercase ? text.toLowerCase() : text;
  const spans: TokenSpan[] = [];
  let cursor = 0;
  for (const token of tokens) {
    if (token === NEWLINE_TOKEN) {
      const found = haystack.slice(cursor).search(/\r\n|\r|\n/);
      const start = found >= 0 ? cursor + found : cursor;
      const end = found >= 0 ? start + (haystack.startsWith('\r\n', start) ? 2 : 1) : cursor;
      spans.push({ token, start, end });
      cursor = end;
      continue;
    }
    const found = haystack.indexOf(token, cursor);
    const start = found >= 0 ? found : cursor;
    const end = Math.min(text.length, start + token.length);
    spans.push({ token, start, end });
    cursor = end;
  }
  return spans;
}
