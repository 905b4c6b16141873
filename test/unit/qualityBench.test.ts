/**
 * The quality bench on a person's own texts (`seqlab bench --quality FILE...`): how it
 * cuts and counts text, in any script, and a real (one-epoch) run on two chapters.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countWords, firstBytes, runQualityBench, SHORT_TEXT_BYTES, type QualityReport } from '../../src/bench/heldout';
import { formatQualityReport } from '../../src/bench/qualityReport';
import { oneLine } from '../../src/cli/table';
import { mobyDickChapter, useWasm } from './helpers';

const CHINESE_PARAGRAPH = '我喜欢机器学习。自然语言处理是人工智能的一个重要领域，它研究如何让计算机理解人类的语言。';

describe('the quality bench counts and cuts text', () => {
  it('counts words, not punctuation, also in text written without spaces', () => {
    assert.equal(countWords('Call me Ishmael. Some years ago—never mind how long'), 10);
    const chinese = countWords(CHINESE_PARAGRAPH);
    // Intl.Segmenter's words: more than the two sentences, fewer than the characters.
    assert.ok(chinese > 10 && chinese < CHINESE_PARAGRAPH.length - 3, String(chinese));
  });

  it('cuts at the last line break within the byte budget, never inside a character', () => {
    const paragraphs = Array.from({ length: 400 }, () => CHINESE_PARAGRAPH).join('\n');
    const head = firstBytes(paragraphs, SHORT_TEXT_BYTES);
    assert.ok(Buffer.byteLength(head) <= SHORT_TEXT_BYTES);
    assert.ok(Buffer.byteLength(head) > SHORT_TEXT_BYTES - Buffer.byteLength(CHINESE_PARAGRAPH) - 1);
    assert.ok(paragraphs.startsWith(head) && head.endsWith('。'), head.slice(-20));
    assert.equal(firstBytes('short text', SHORT_TEXT_BYTES), 'short text');
    // No line break: at the last space.
    assert.equal(firstBytes('one two three four', 12), 'one two');
  });
});

describe('the quality bench on the person\'s own texts', () => {
  let report: QualityReport;
  before(async () => {
    await useWasm();
    const texts = [
      { name: 'loomings.txt', description: 'chapter 1', text: mobyDickChapter(1) },
      { name: 'carpet-bag.txt', description: 'chapter 2', text: mobyDickChapter(2) },
    ];
    report = await runQualityBench({ quick: true, backend: 'wasm', train: { epochs: 1, threads: 1 }, texts, progress: () => {} });
  });

  it('trains on each text whole and scores it against KN3', () => {
    assert.equal(report.words, null);
    assert.deepEqual(report.texts.map((t) => t.corpus), ['loomings.txt', 'carpet-bag.txt']);
    for (const text of report.texts) {
      assert.equal(text.words, countWords(text.corpus === 'loomings.txt' ? mobyDickChapter(1) : mobyDickChapter(2)));
      assert.ok(text.summary.natsPerChar! > 0.5 && text.summary.natsPerChar! < 5, String(text.summary.natsPerChar));
      assert.ok(text.summary.baselines.kn3NatsPerChar! > 0.5);
    }
  });

  it('trains every preset and the sample on the first text, and says so', () => {
    assert.equal(report.shortText.corpus, 'loomings.txt');
    assert.equal(report.shortText.presets.length, 4);
    assert.equal(report.sample.corpus, 'loomings.txt');
    const printed = formatQualityReport(report);
    assert.match(printed, /each text whole/);
    assert.match(printed, /^loomings\.txt +[\d,]+ /m);
    assert.match(printed, /Every size preset on the first \d+ KB \([\d,]+ words\) of loomings\.txt/);
    // A chapter's held-out tenth is all spent fitting the thresholds: the report says why keys saved is blank.
    assert.ok(report.texts.every((t) => t.untuned === null));
    assert.match(printed, /keys saved, offered, right: not measured, as the held-out part of a text under about [\d,]+ characters is all spent fitting/);
    // The whole sample on one line, line breaks shown as ↵.
    const sampleLine = printed.split('\n').find((line) => line.includes(' ⟶ '));
    assert.ok(sampleLine?.endsWith(oneLine(report.sample.continuation.trim())), sampleLine);
  });
});
