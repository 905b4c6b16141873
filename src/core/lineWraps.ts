/**
 * Hard-wrapped text: which single line breaks inside a paragraph are where an editor wrapped
 * the line (they read as spaces) and which the writer typed. A model that learns every wrap
 * as a line break spends its guesses on where lines end, and a suggestion would stop at
 * every line end, though the sentence goes on.
 */

/** How a hard-wrapped text's single line breaks read, saved in tokenizer.json. */
export interface SoftWrapRule {
  /**
   * A line shorter than this (trimmed) that continues on the next line was ended by its
   * writer ("Hi all,", a signature, an address), so its break stays. 0 in runs saved before
   * SeqLab looked at the line: every break inside a paragraph was a space.
   */
  shortestLine: number;
}

/** A continued line at least this long may be a wrap: editors wrap at 60 to 100 columns, and a wrap leaves a line within a word of that. */
export const SHORTEST_WRAPPED_LINE = 40;
/** Longer lines are not hard-wrapped: editors wrap at 72 to 100 columns. */
const MAX_WRAP_WIDTH = 110;
/** Fewer candidate wraps than this are too few to tell. */
const MIN_WRAPS = 10;
/** In a wrapped text most long lines continue; where long lines are paragraphs of their own, they end at a blank line. */
const MIN_CONTINUED_SHARE = 0.4;
/**
 * In a wrapped text the next line's first word would not have fitted on the line (that is
 * why the editor broke it there); in code, verse or one sentence per line it mostly would.
 */
const MIN_FULL_SHARE = 0.6;
/**
 * An editor wraps after any word, so most wraps fall inside a sentence (the line ends with
 * a letter, a digit, a comma or a dash); code ends lines with ; { or ), and text written
 * one sentence per line with . ! or ?.
 */
const MIN_INSIDE_SENTENCE_SHARE = 0.5;
const ENDS_INSIDE_SENTENCE = /[\p{L}\p{N},\-–—]$/u;
/** Columns a line may fall short of the text's wrap width and still be full: quoted mail mixes widths of 72 to 80. */
const WIDTH_SLACK = 4;

/** A line that starts a list item, a heading, a quote, a table row or a code comment begins something new. */
const STRUCTURAL_LINE_START = /^([-*+#>|]|\/\/|\d+[.)])/;

/**
 * The soft-wrap rule for `text`, or null to keep every line break. The text is hard-wrapped
 * when its long lines mostly continue on the next line (unindented, not a list item,
 * heading or quote), at most a few lines are longer than editors wrap, and the continued
 * lines mostly end inside a sentence and are full: the next line's first word would not
 * have fitted within the text's wrap width (the 90th percentile of their lengths).
 */
export function detectSoftWraps(text: string): SoftWrapRule | null {
  const lines = text.split(/\r\n?|\n/);
  const wraps: { length: number; nextWord: number; insideSentence: boolean }[] = [];
  let nonEmpty = 0;
  let long = 0;
  let overlong = 0;
  for (let i = 0; i + 1 < lines.length; i++) {
    const line = lines[i].trim();
    const length = line.length;
    if (length === 0) continue;
    nonEmpty++;
    if (length > MAX_WRAP_WIDTH) overlong++;
    if (length < SHORTEST_WRAPPED_LINE) continue;
    long++;
    const next = lines[i + 1];
    if (continuesParagraph(next)) wraps.push({ length, nextWord: next.split(/\s/, 1)[0].length, insideSentence: ENDS_INSIDE_SENTENCE.test(line) });
  }
  if (wraps.length < MIN_WRAPS || overlong > 0.05 * nonEmpty || wraps.length < MIN_CONTINUED_SHARE * long) return null;
  if (wraps.filter((w) => w.insideSentence).length < MIN_INSIDE_SENTENCE_SHARE * wraps.length) return null;
  const lengths = wraps.map((w) => w.length).sort((a, b) => a - b);
  const width = lengths[Math.floor(0.9 * (lengths.length - 1))];
  const full = wraps.filter((w) => w.length + 1 + w.nextWord > width - WIDTH_SLACK).length;
  return full >= MIN_FULL_SHARE * wraps.length ? { shortestLine: SHORTEST_WRAPPED_LINE } : null;
}

/** Whether `text` is hard-wrapped, so that some of its line breaks read as spaces. */
export function looksHardWrapped(text: string): boolean {
  return detectSoftWraps(text) !== null;
}

/** A non-empty line that goes on with its paragraph: not indented and not a list item, heading, quote or table row. */
function continuesParagraph(line: string): boolean {
  return line.trim().length > 0 && !/^\s/.test(line) && !STRUCTURAL_LINE_START.test(line);
}

/**
 * Whether the whitespace text[gapStart, gapEnd), holding one line break, is a wrap under
 * `rule`: the next line (starting with `nextRun`) continues the paragraph and the line
 * before is long enough to have been wrapped.
 */
export function isSoftWrap(text: string, gapStart: number, gapEnd: number, nextRun: string, rule: SoftWrapRule): boolean {
  if (!/[\n\r]$/.test(text.slice(gapStart, gapEnd)) || STRUCTURAL_LINE_START.test(nextRun)) return false;
  if (rule.shortestLine === 0) return true;
  let lineStart = gapStart;
  while (lineStart > 0 && !isLineBreak(text.charCodeAt(lineStart - 1))) lineStart--;
  return text.slice(lineStart, gapStart).trim().length >= rule.shortestLine;
}

function isLineBreak(code: number): boolean {
  return code === 10 || code === 13;
}
