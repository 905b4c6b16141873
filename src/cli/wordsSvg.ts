/**
 * Words of a text laid out as a plain SVG, each on a background of its own colour: the
 * shape of every "shade the words by a figure" chart. Monospaced, so the layout needs no
 * font metrics; a line break token starts a new line, and lines wrap at a fixed width as
 * a reader would. The caller adds its title and legend around the words.
 */
import { NEWLINE_TOKEN, type TokenSpan } from '../core/tokenizer';

export const FONT_SIZE = 13;
/** Width of a character of a monospaced font at FONT_SIZE, as browsers draw it. */
const CHAR_WIDTH = 7.8;
export const LINE_HEIGHT = 22;
export const WIDTH = 960;
export const MARGIN = 16;

export interface ShadedWord extends TokenSpan {
  /** Background colour (any SVG colour); none: no background. */
  fill?: string;
  /** The tooltip, e.g. the figure behind the colour. */
  title: string;
}

/** The words as SVG groups from `top` down, and the baseline of the last line. */
export function shadedWords(words: readonly ShadedWord[], top: number): { svg: string; bottom: number } {
  const groups: string[] = [];
  let x = MARGIN;
  let y = top;
  const newLine = () => {
    x = MARGIN;
    y += LINE_HEIGHT;
  };
  words.forEach((word, i) => {
    if (word.token === NEWLINE_TOKEN) return newLine();
    const characters = [...word.token].length;
    const gap = i > 0 && word.start > words[i - 1].end ? 1 : 0;
    if (x + (gap + characters) * CHAR_WIDTH > WIDTH - MARGIN && x > MARGIN) newLine();
    else x += gap * CHAR_WIDTH;
    const width = characters * CHAR_WIDTH;
    const background = word.fill
      ? `<rect x="${x.toFixed(1)}" y="${y - FONT_SIZE - 3}" width="${width.toFixed(1)}" height="${LINE_HEIGHT - 4}" rx="2" fill="${word.fill}"/>`
      : '';
    groups.push(`<g><title>${escapeXml(word.title)}</title>${background}<text x="${x.toFixed(1)}" y="${y}">${escapeXml(word.token)}</text></g>`);
    x += width;
  });
  return { svg: groups.join('\n'), bottom: y };
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
