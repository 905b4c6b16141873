/**
 * The simulated typist (src/core/typing.ts) against a stub predictor whose suggestions are
 * fixed per text before the cursor, so every figure can be counted by hand.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Predictor, SuggestOptions, Suggestion } from '../../src/core/predictor';
import { chooseMinConfidence, CONFIDENCE_CANDIDATES, simulateTyping } from '../../src/core/typing';

/** Per text before the cursor: the pieces of text a suggestion would add, each with the model's probability. */
type Script = Record<string, [piece: string, probability: number][]>;

/**
 * A predictor that suggests as the real one decides how much to show: pieces are added
 * while the product of their probabilities stays at or above minConfidence.
 */
function stubPredictor(script: Script) {
  const stub = {
    resets: 0,
    reset() {
      stub.resets++;
    },
    suggest(before: string, options: SuggestOptions): Suggestion | undefined {
      const tokens: string[] = [];
      const confidences: number[] = [];
      let text = '';
      let joint = 1;
      for (const [piece, p] of (script[before] ?? []).slice(0, options.maxWords + 1)) {
        if (joint * p < options.minConfidence) break;
        joint *= p;
        text += piece;
        tokens.push(piece.trim());
        confidences.push(p);
      }
      return tokens.length > 0 ? { text, tokens, confidences } : undefined;
    },
    // Only asked at word starts, where the first word follows the space as it is.
    tokenizer: { continuation: (_before: string, tokens: readonly string[]) => tokens.join(' ') },
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
    'the cat sat ': [['o', 0.3]], // only the start of the next word, "on"
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
    // "cat" and "sat" were the next words; "o" only starts "on", and "hat" is wrong.
    assert.equal(figures.wordStartFirstWordRight, 2 / 4);
  });

  it('takes a suggestion only when all of it matches', () => {
    // Above 0.3 "cat ran" is cut to "cat", which is right: Tab takes it after "the ".
    const figures = simulateTyping(predictor, text, { maxWords: 3, minConfidence: 0.31 });
    // t, Tab(he), space, Tab(cat), space, Tab(sat on), space, a, space, m ("hat" is shown but wrong), a, t.
    assert.equal(figures.keystrokeSavings, 1 - 12 / 20);
    // "o" (0.3) is below the threshold now: offered before "cat", "sat" and "mat", right twice.
    assert.equal(figures.wordStartOffered, 3 / 5);
    assert.equal(figures.wordStartFirstWordRight, 2 / 3);
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

describe('chooseMinConfidence', () => {
  // Too low a threshold shows "cat ran" (wrong as a whole); too high hides "sat" (right).
  const script: Script = {
    t: [['he', 0.9]],
    'the ': [['cat', 0.6], [' ran', 0.1]],
    'the c': [['at', 0.9]],
    'the cat ': [['sat', 0.3]],
  };
  const text = 'the cat sat';

  it('picks the threshold that saves the most keystrokes, the lowest of equals', () => {
    // By hand, for the 11 characters: up to 0.06 "cat ran" shows (7 keys); up to 0.3 "cat" and "sat" (6 keys); above, "cat" alone (8 keys).
    const keys = (threshold: number) => (threshold <= 0.06 ? 7 : threshold <= 0.3 ? 6 : 8);
    for (const threshold of CONFIDENCE_CANDIDATES) {
      const { keystrokeSavings } = simulateTyping(stubPredictor(script), text, { maxWords: 3, minConfidence: threshold });
      assert.equal(keystrokeSavings, 1 - keys(threshold) / 11, `at ${threshold}`);
    }
    const best = CONFIDENCE_CANDIDATES.find((threshold) => keys(threshold) === 6);
    assert.ok(best !== undefined, 'a candidate between 0.06 and 0.3');
    const predictor = stubPredictor(script);
    const { minConfidence, figures } = chooseMinConfidence(predictor, text, 3);
    assert.equal(minConfidence, best);
    assert.equal(figures.keystrokeSavings, 1 - 6 / 11);
    // Each candidate types from a fresh start, so one threshold's document cache does not help the next.
    assert.equal(predictor.resets, CONFIDENCE_CANDIDATES.length);
  });
});
