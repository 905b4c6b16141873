/**
 * Hard-wrapped text (src/core/tokenizer.ts): a single line break inside a paragraph is
 * where an editor wrapped the line, so it reads as a space; a blank line still ends a
 * paragraph. Other texts keep every line break.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { looksHardWrapped } from '../../src/core/lineWraps';
import { NEWLINE_TOKEN, Tokenizer } from '../../src/core/tokenizer';
import { mobyDickChapter } from './helpers';

/** Fills lines up to `width` columns, breaking between words, as an editor's hard wrap does. */
function wrap(paragraph: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of paragraph.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

const PARAGRAPHS = mobyDickChapter(1)
  .split(/\n+/)
  .map((p) => p.trim())
  .filter(Boolean);
const WRAPPED = PARAGRAPHS.map((p) => wrap(p, 72)).join('\n\n');

describe('looksHardWrapped', () => {
  it('is true for prose wrapped at 72 columns', () => {
    assert.ok(WRAPPED.split('\n').every((line) => line.length <= 72));
    assert.equal(looksHardWrapped(WRAPPED), true);
  });

  it('is false for prose written one paragraph per line', () => {
    assert.equal(looksHardWrapped(PARAGRAPHS.join('\n')), false);
    assert.equal(looksHardWrapped(PARAGRAPHS.join('\n\n')), false);
  });

  it('is false for a Markdown list of short items', () => {
    const list = Array.from({ length: 20 }, (_, i) => `- item ${i + 1}: a note`).join('\n');
    assert.equal(looksHardWrapped(list), false);
  });

  it('is false for a Markdown list whose items are as long as wrapped lines', () => {
    const list = Array.from({ length: 20 }, (_, i) => `- Step ${i + 1}: install the extension, open a text file and train a model on it`).join('\n');
    assert.equal(looksHardWrapped(list), false);
  });

  it('is true for mail-like text of short wrapped paragraphs between greetings and signatures', () => {
    // Two-line paragraphs: as many breaks end a paragraph (or a short line) as fall inside one.
    const mail = PARAGRAPHS.filter((p) => p.length > 80)
      .slice(0, 12)
      .map((p, i) => `Hi all,\n\n${wrap(p.slice(0, 140), 72)}\n\nThanks,\nAnn ${i}`)
      .join('\n\n');
    assert.equal(looksHardWrapped(mail), true);
  });

  it('is false for code whose long lines the next word would have fitted after', () => {
    const code = Array.from({ length: 30 }, (_, i) => `const value${i} = computeSomething(input${i}, ${'option'.repeat(i % 5)});`).join('\n');
    assert.equal(looksHardWrapped(code), false);
  });

  it('is false for one sentence per line, where the next word would have fitted on most lines', () => {
    const sentences = PARAGRAPHS.join(' ')
      .split(/(?<=[.!?])\s+/)
      .filter((s) => s.length >= 40 && s.length <= 100)
      .slice(0, 40);
    assert.ok(sentences.length >= 20);
    assert.equal(looksHardWrapped(sentences.join('\n')), false);
  });

  it('is false for short texts, where there is too little to tell', () => {
    assert.equal(looksHardWrapped(wrap(PARAGRAPHS[0], 72).split('\n').slice(0, 5).join('\n')), false);
  });
});

describe('a tokenizer fitted on hard-wrapped text', () => {
  const tokenizer = Tokenizer.fit(WRAPPED);

  it('reads a wrapped line break as a space: no token', () => {
    assert.equal(tokenizer.softWraps, true);
    const [first] = PARAGRAPHS.map((p) => wrap(p, 72));
    assert.ok(first.includes('\n'), 'the first paragraph takes several lines');
    assert.deepEqual(tokenizer.tokenize(first), tokenizer.tokenize(first.replace(/\n/g, ' ')));
    assert.ok(!tokenizer.tokenize(first).includes(NEWLINE_TOKEN));
    const line = 'Call me Ishmael. Some years ago, never mind how long precisely, having';
    assert.deepEqual(Array.from(tokenizer.encode(`${line}\nlittle money`)), Array.from(tokenizer.encode(`${line} little money`)));
  });

  it('keeps the break after a short line: its writer ended it ("Hi all,", a signature)', () => {
    assert.deepEqual(tokenizer.tokenize('Hi all,\nthe ship'), ['Hi', 'all', ',', NEWLINE_TOKEN, 'the', 'ship']);
    assert.equal(tokenizer.toJSON().shortestWrappedLine, 40);
  });

  it('reads a tokenizer.json saved before shortestWrappedLine as wrapping after every line', () => {
    const { shortestWrappedLine: _omitted, ...older } = tokenizer.toJSON();
    assert.deepEqual(Tokenizer.fromJSON(older).tokenize('Hi all,\nthe ship'), ['Hi', 'all', ',', 'the', 'ship']);
  });

  it('refuses a shortestWrappedLine that is not a whole number in one sentence', () => {
    assert.throws(() => Tokenizer.fromJSON({ ...tokenizer.toJSON(), shortestWrappedLine: -1 }), /tokenizer\.json has a "shortestWrappedLine" that is not a whole number\.$/);
  });

  it('keeps the line breaks of a blank line between paragraphs', () => {
    const tokens = tokenizer.tokenize('the sea.\n\nThe ship');
    assert.deepEqual(tokens, ['the', 'sea', '.', NEWLINE_TOKEN, NEWLINE_TOKEN, 'The', 'ship']);
  });

  it('keeps a line break before a list item, a heading or an indented line', () => {
    for (const next of ['- the ship', '# The ship', '  the ship']) {
      assert.ok(tokenizer.tokenize(`the sea\n${next}`).includes(NEWLINE_TOKEN), JSON.stringify(next));
    }
  });

  it('keeps lineBreaks through tokenizer.json', () => {
    const json = JSON.parse(JSON.stringify(tokenizer.toJSON()));
    assert.equal(json.lineBreaks, 'soft-wraps');
    const restored = Tokenizer.fromJSON(json);
    assert.equal(restored.softWraps, true);
    assert.deepEqual(Array.from(restored.encode(WRAPPED.slice(0, 2000))), Array.from(tokenizer.encode(WRAPPED.slice(0, 2000))));
  });
});

describe('a tokenizer fitted on text that is not hard-wrapped', () => {
  const tokenizer = Tokenizer.fit(PARAGRAPHS.join('\n'));

  it('keeps every line break, and says so in tokenizer.json', () => {
    assert.equal(tokenizer.softWraps, false);
    assert.deepEqual(tokenizer.tokenize('the sea\nthe ship'), ['the', 'sea', NEWLINE_TOKEN, 'the', 'ship']);
    const json = tokenizer.toJSON();
    assert.equal(json.lineBreaks, 'kept');
    assert.equal(Tokenizer.fromJSON(JSON.parse(JSON.stringify(json))).softWraps, false);
  });

  it('reads a tokenizer.json saved before lineBreaks existed as keeping every break', () => {
    const { lineBreaks: _omitted, ...older } = Tokenizer.fit(WRAPPED).toJSON();
    assert.equal(Tokenizer.fromJSON(older).softWraps, false);
  });

  it('refuses an unknown lineBreaks value in one sentence', () => {
    assert.throws(() => Tokenizer.fromJSON({ ...tokenizer.toJSON(), lineBreaks: 'sometimes' }), /tokenizer\.json has "lineBreaks" other than/);
  });
});
