/** The suggestion model's cost of unknown words (src/core/newWordSpelling.ts): spelled, or remembered from the document. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crossFittedNewWordShare, fitNewWordShare, newWordCosts, newWordNats } from '../../src/core/newWordSpelling';
import { SpellingModel } from '../../src/core/spelling';

const close = (a: number, b: number, tolerance = 1e-9) => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b));

describe('new words of the document', () => {
  it('are remembered as they come: a word is free of memory the first time, then has its share', () => {
    const words = ['Queequeg', 'Ahab', 'Queequeg', 'Stubb', 'Queequeg'];
    const costs = newWordCosts(words, [10, 11, 12, 13, 14]);
    assert.deepEqual(Array.from(costs.remembered), [0, 0, 1 / 2, 0, 2 / 4]);
  });

  it('cost their spelling alone with a share of 0, and the mixture by hand with another share', () => {
    const costs = newWordCosts(['Queequeg', 'Ahab', 'Queequeg'], [10, 11, 12]);
    assert.ok(close(newWordNats(costs, 0), 33));
    const share = 0.3;
    const byHand = 10 - Math.log(0.7) + (11 - Math.log(0.7)) - Math.log(0.3 * 0.5 + 0.7 * Math.exp(-12));
    assert.ok(close(newWordNats(costs, share), byHand), `${newWordNats(costs, share)} against ${byHand}`);
  });

  it('stay finite for a word too long for exp() to hold its spelling probability', () => {
    const costs = newWordCosts(['x'.repeat(400), 'x'.repeat(400)], [900, 900]);
    assert.ok(Number.isFinite(newWordNats(costs, 0.5)));
    assert.ok(close(newWordNats(costs, 0.5), 900 - Math.log(0.5) - Math.log(0.5 * 1)));
  });

  it('get a share that fits the text: none when nothing repeats, much when names recur', () => {
    const spelling = SpellingModel.fit('the whale and the sea and a ship and a crew of men'.split(' '));
    const nats = (words: string[]) => words.map((w) => spelling.nats(w));
    const unique = ['Tashtego', 'Daggoo', 'Flask', 'Pequod', 'Nantucket', 'Bildad', 'Peleg'];
    assert.ok(fitNewWordShare(newWordCosts(unique, nats(unique))) < 1e-6);
    const recurring = ['Queequeg', 'Ahab', 'Queequeg', 'Ahab', 'Queequeg', 'Starbuck', 'Ahab', 'Queequeg'];
    const costs = newWordCosts(recurring, nats(recurring));
    const share = fitNewWordShare(costs);
    assert.ok(share > 0.3 && share < 1, String(share));
    // The fitted share scores better than spelling alone and than shares either side of it.
    const best = newWordNats(costs, share);
    for (const other of [0, share / 2, (share + 1) / 2]) assert.ok(best <= newWordNats(costs, other) + 1e-9, `share ${other}`);
  });

  it('are scored with shares fitted on the other half of the text (cross-fitted), and fitted on all for use', () => {
    const words = ['A1', 'B1', 'A1', 'C1', 'A1', 'D1', 'E1', 'D1', 'D1', 'F1'];
    const spellings = words.map((_, i) => 8 + (i % 3));
    const costs = newWordCosts(words, spellings);
    const fit = crossFittedNewWordShare(costs);
    assert.ok(close(fit.share, fitNewWordShare(costs)));
    const expected = newWordNats(costs, fitNewWordShare(costs, 5, 10), 0, 5) + newWordNats(costs, fitNewWordShare(costs, 0, 5), 5, 10);
    assert.ok(close(fit.nats, expected));
  });
});
