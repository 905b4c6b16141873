/**
 * The simulated typist (src/core/typing.ts) against a stub predictor whose suggestions are
 * fixed per text before the cursor, so every figure can be counted by hand.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pickGhost, type Ghosts, type Predictor, type SuggestOptions, type Suggestion } from '../../src/core/predictor';
import { chooseThresholds, CONFIDENCE_CANDIDATES, isNextWord, NEXT_WORD_CANDIDATES, simulateTyping } from '../../src/core/typing';

/** Per text before the cursor: the pieces of text a suggestion would add, each with the model's probability. */
type Script = Record<string, [piece: string, probability: number][]>;

/**
 * A predictor that suggests as the real one decides how much to show: pieces are added
 * while the product of their probabilities stays at or above the threshold, and the real
 * pickGhost shows the cut that saves the most keys on average. It counts its resets and
 * the texts it was asked about since the last one.
 */
function stubPredictor(script: Script) {
  const stub = {
    resets: 0,
    askedSinceReset: [] as string[],
    reset() {
      stub.resets++;
      stub.askedSinceReset = [];
    },
    ghosts(before: string, options: SuggestOptions): Ghosts {
      stub.askedSinceReset.push(before);
      const partial = before !== '' && !/\s$/.test(before);
      const threshold = partial ? options.minConfidence : (options.minNextWordConfidence ?? options.minConfidence);
      const ghosts: Ghosts = { partial, tokens: [], confidences: [], cuts: [] };
      let text = '';
      let joint = 1;
      for (const [piece, p] of (script[before] ?? []).slice(0, options.maxWords + 1)) {
        if (joint * p < threshold) break;
        joint *= p;
        text += piece;
        ghosts.tokens.push(piece.trim());
        ghosts.confidences.push(p);
        ghosts.cuts.push({ tokens: ghosts.tokens.length, text, probability: joint });
      }
      return ghosts;
    },
    suggest(before: string, options: SuggestOptions): Suggestion | undefined {
      return pickGhost(stub.ghosts(before, options), options);
    },
    // Only asked at word starts, where the first word follows the space as it is; an opening quote glues to its word.
    tokenizer: { continuation: (_before: string, tokens: readonly string[]) => tokens.join(' ').replace(/^" /, '"') },
  };
  return stub as typeof stub & Predictor;
}

describe('simulateTyping', () => {
  const text = 'the cat sat on a mat';
  const predictor = stubPredictor({
    t: [['he', 0.9]],
    'the ': [['cat', 0.6], [' ran', 0.5]], // first word right, the whole suggestion wrong
    'the c': [['at', 0.9]],
    'the cat ': [['sat', 0.7], [' on', 0.8]], // all right
    'the cat sat ': [['in', 0.3]], // wrong
    // "the cat sat on ": no suggestion
    'the cat sat on a ': [['hat', 0.4]], // wrong
  });

  it('counts one key per typed character and one per accepted suggestion', () => {
    const figures = simulateTyping(predictor, text, { maxWords: 3, minConfidence: 0 });
    // t, Tab(he), space, c, Tab(at), space, Tab(sat on), space, a, space, m, a, t: 13 keys for 20
    // characters. Accepting "sat on" skips "the cat sat ", so its "o" is never shown.
    assert.equal(figures.keystrokeSavings, 1 - 13 / 20);
  });

  it('asks at every word start of the text, also those the typist skipped, and wants the whole next word', () => {
    const figures = simulateTyping(predictor, text, { maxWords: 3, minConfidence: 0 });
    // Before "cat", "sat", "on", "a" and "mat".
    assert.equal(figures.wordStarts, 5);
    // Everywhere but before "a".
    assert.equal(figures.wordStartOffered, 4 / 5);
    // "cat" and "sat" were the next words; "in" and "hat" are wrong.
    assert.equal(figures.wordStartFirstWordRight, 2 / 4);
  });

  it('takes a suggestion only when all of it matches', () => {
    // Above 0.3 "cat ran" is cut to "cat", which is right: Tab takes it after "the ".
    const figures = simulateTyping(predictor, text, { maxWords: 3, minConfidence: 0.31 });
    // t, Tab(he), space, Tab(cat), space, Tab(sat on), space, a, space, m ("hat" is shown but wrong), a, t.
    assert.equal(figures.keystrokeSavings, 1 - 12 / 20);
    // "in" (0.3) is below the threshold now: offered before "cat", "sat" and "mat", right twice.
    assert.equal(figures.wordStartOffered, 3 / 5);
    assert.equal(figures.wordStartFirstWordRight, 2 / 3);
  });

  it('counts an opening quote as right before the quoted word: a quote mark ends no word', () => {
    // A quote mark alone is too short to show: the word after it comes with it.
    const quoting = stubPredictor({ 'he said ': [['"', 0.5], ['yes', 0.8]], 'he said "yes" ': [['"', 0.5], ['no', 0.5]] });
    const figures = simulateTyping(quoting, 'he said "yes" now', { maxWords: 3, minConfidence: 0 });
    // Nothing before "said"; before '"yes"' a quote (right), before "now" one where a word comes (wrong).
    assert.equal(figures.wordStartOffered, 2 / 3);
    assert.equal(figures.wordStartFirstWordRight, 1 / 2);
  });

  it('counts a ghost that opens a quote as right only if the quoted word is right too', () => {
    const text = 'he said "Ah no';
    const options = { maxWords: 3, minConfidence: 0.1 };
    // '"I' shows where '"Ah' comes: the quote is right, its word is not.
    const wrongWord = simulateTyping(stubPredictor({ 'he said ': [['"', 0.9], ['I', 0.5]] }), text, options);
    assert.equal(wrongWord.wordStartOffered, 1 / 3);
    assert.equal(wrongWord.wordStartFirstWordRight, 0);
    const rightWord = simulateTyping(stubPredictor({ 'he said ': [['"', 0.9], ['Ah', 0.5]] }), text, options);
    assert.equal(rightWord.wordStartFirstWordRight, 1);
  });

  it('reports zeros for an empty text', () => {
    assert.deepEqual(simulateTyping(predictor, '', { maxWords: 3, minConfidence: 0 }), {
      keystrokeSavings: 0,
      wordStarts: 0,
      wordStartOffered: 0,
      wordStartFirstWordRight: 0,
    });
  });
});

describe('chooseThresholds', () => {
  it('shows next-word ghosts from the lowest confidence where they are right two times in five', () => {
    const script: Script = {
      'one ': [['two', 0.5]], // right
      'one two ': [['ten', 0.12]], // wrong
      'one two three ': [['nine', 0.25]], // wrong
      'one two three four ': [['six', 0.07]], // wrong
    };
    // Right 1 of 4 shown up to 0.07, 1 of 3 up to 0.12, 1 of 2 from 0.13 on.
    const { minNextWordConfidence, figures } = chooseThresholds(stubPredictor(script), 'one two three four five', 3);
    assert.equal(minNextWordConfidence, 0.13);
    assert.equal(figures.wordStartOffered, 2 / 4);
    assert.equal(figures.wordStartFirstWordRight, 1 / 2);
  });

  it('shows next-word ghosts only at the strictest candidate when they are never right often enough', () => {
    const script: Script = { 'one ': [['ten', 0.9]], 'one two ': [['ten', 0.7]] };
    assert.equal(chooseThresholds(stubPredictor(script), 'one two three', 3).minNextWordConfidence, NEXT_WORD_CANDIDATES.at(-1));
  });

  it('picks the completion threshold that saves the most keystrokes, the lowest of equals', () => {
    // Too low a threshold shows "he dog" (wrong as a whole; at 0.19 it saves more on average
    // than "he" at 0.9); too high hides "at" (right).
    const script: Script = { t: [['he', 0.9], [' dog', 0.19 / 0.9]], 'the c': [['at', 0.25]] };
    const text = 'the cat sat';
    // By hand, for the 11 characters: up to 0.19 "he dog" shows (10 keys); up to 0.25 "he" and "at" (9 keys); above, "he" alone (10 keys).
    const keys = (threshold: number) => (threshold <= 0.19 ? 10 : threshold <= 0.25 ? 9 : 10);
    for (const threshold of CONFIDENCE_CANDIDATES) {
      const { keystrokeSavings } = simulateTyping(stubPredictor(script), text, { maxWords: 3, minConfidence: threshold });
      assert.equal(keystrokeSavings, 1 - keys(threshold) / 11, `at ${threshold}`);
    }
    const best = CONFIDENCE_CANDIDATES.find((threshold) => keys(threshold) === 9);
    assert.ok(best !== undefined, 'a candidate between 0.19 and 0.25');
    const predictor = stubPredictor(script);
    const { minConfidence, figures } = chooseThresholds(predictor, text, 3);
    assert.equal(minConfidence, best);
    assert.equal(figures.keystrokeSavings, 1 - 9 / 11);
    // Every candidate picks from one pass over the text from a fresh start: a ghost depends
    // only on the text before it, and one threshold's document cache must not help the next.
    assert.deepEqual(
      predictor.askedSinceReset,
      Array.from(text, (_, position) => text.slice(0, position)),
    );
  });
});

describe('isNextWord', () => {
  const text = 'he said "there" on';
  it('wants the whole next word, not the start of a longer one', () => {
    assert.equal(isNextWord(text, 3, 'said'), true);
    assert.equal(isNextWord(text, 3, 'sa'), false);
    assert.equal(isNextWord(text, 9, 'the'), false);
  });

  it('counts an opening quote as right before the quoted word', () => {
    assert.equal(isNextWord(text, 8, '"'), true);
    assert.equal(isNextWord(text, 16, 'on'), true);
  });
});
