/** Nats per character and the spelling model behind it (DESIGN.md §5), on examples checked by hand. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeHeldOut, natsPerCharacter, targetCount, unknownShare } from '../../src/core/perCharacter';
import { SpellingModel } from '../../src/core/spelling';
import { Tokenizer } from '../../src/core/tokenizer';
import { mobyDickChapter } from './helpers';

/** A spelling model that knows one word: "zyx" costs 5 nats. */
const stubSpelling = { nats: (word: string) => (word === 'zyx' ? 5 : Number.NaN) };

describe('natsPerCharacter', () => {
  it('adds the spelling of unknown targets and divides by the characters after the first token', () => {
    // ids: "the" 1, "cat" 2, "zyx" unknown (0), "." 3. The first token is read, never predicted.
    const text = 'the cat zyx.';
    const heldOut = describeHeldOut(text, ['the', 'cat', 'zyx', '.'], Int32Array.from([1, 2, 0, 3]), 0, stubSpelling);
    assert.equal(targetCount(heldOut), 3);
    assert.equal(heldOut.characters, ' cat zyx.'.length);
    assert.equal(heldOut.unknownTargets, 1);
    assert.equal(heldOut.spellingNats, 5);
    assert.equal(unknownShare(heldOut), 1 / 3);
    // A scorer that pays 1 nat for each of the three targets: (3 + 5) / 9 characters.
    assert.equal(natsPerCharacter(3 * 1, heldOut), 8 / 9);
  });

  it('counts characters from the end of the first token, whatever comes before it', () => {
    const count = (text: string, first: string) =>
      describeHeldOut(text, [first, 'x'], Int32Array.from([1, 1]), 0, stubSpelling).characters;
    assert.equal(count('  Hello world', 'Hello'), ' world'.length);
    assert.equal(count('\r\nHi there', '\n'), 'Hi there'.length);
    assert.equal(count('a 🐋 b', 'a'), 4, 'a character outside the Basic Multilingual Plane counts once');
  });

  it('is unknown without a spelling model, and the unknown share is still known', () => {
    const heldOut = describeHeldOut('the zyx', ['the', 'zyx'], Int32Array.from([1, 0]), 0, undefined);
    assert.equal(natsPerCharacter(2, heldOut), null);
    assert.equal(unknownShare(heldOut), 1);
  });

  it('refuses tokens that do not line up with the ids', () => {
    assert.throws(() => describeHeldOut('a b', ['a', 'b'], Int32Array.from([1]), 0, stubSpelling), /align/);
  });

  it('lines up with a real tokenizer on real text', () => {
    const text = mobyDickChapter(2);
    const tokenizer = Tokenizer.fit(mobyDickChapter(1), { minCount: 2 });
    const tokens = tokenizer.tokenize(text);
    const heldOut = describeHeldOut(text, tokens, tokenizer.encode(text), tokenizer.unknownId, SpellingModel.fit(tokens));
    assert.ok(heldOut.characters > text.length * 0.99 && heldOut.characters < text.length);
    assert.ok(heldOut.unknownTargets > 0 && heldOut.spellingNats! > heldOut.unknownTargets);
  });
});

describe('SpellingModel', () => {
  const words = mobyDickChapter(1).split(/\s+/).filter(Boolean);
  const spelling = SpellingModel.fit(words);

  it('charges more for letters never seen than for a word that looks like the training words', () => {
    assert.ok(spelling.nats('whaling') < spelling.nats('ßøλж'), `${spelling.nats('whaling')} vs ${spelling.nats('ßøλж')}`);
    assert.ok(spelling.nats('whaling') < spelling.nats('qxzjvq'));
    // An unseen letter pays at least for choosing one of 65536 code points.
    assert.ok(spelling.nats('ж') > Math.log(65536));
  });

  it('gives every string over a small alphabet a probability, summing to at most 1', () => {
    const small = SpellingModel.fit(['ab', 'ba', 'abb', 'a', 'bab']);
    // "c" was never seen: it stands for all 65536 code points an unseen letter may be.
    const letters = ['a', 'b', 'c'];
    const weight = (word: string) => Math.exp(-small.nats(word)) * 65536 ** [...word].filter((c) => c === 'c').length;
    let total = 0;
    let strings = [''];
    for (let length = 0; length <= 7; length++) {
      for (const word of strings) {
        const p = weight(word);
        assert.ok(p > 0 && Number.isFinite(p), word);
        total += p;
      }
      strings = strings.flatMap((word) => letters.map((letter) => word + letter));
    }
    assert.ok(total <= 1 + 1e-9, `total ${total}`);
    assert.ok(total > 0.9, `strings of up to 7 letters should hold most of the mass, got ${total}`);
  });

  it('spells the same after a round trip through JSON, and refuses junk', () => {
    const again = SpellingModel.fromJSON(JSON.parse(JSON.stringify(spelling.toJSON())));
    for (const word of ['whale', 'Ishmael', 'ßøλж', '']) assert.equal(again.nats(word), spelling.nats(word));
    assert.throws(() => SpellingModel.fromJSON({ format: 'seqlab-spelling', version: 1, letters: [97] }), /spelling\.json/);
    assert.throws(() => SpellingModel.fromJSON(null), /spelling\.json/);
  });

  it('still spells when fitted on nothing', () => {
    const empty = SpellingModel.fit([]);
    assert.ok(Number.isFinite(empty.nats('word')) && empty.nats('word') > 4 * Math.log(65536));
  });
});
