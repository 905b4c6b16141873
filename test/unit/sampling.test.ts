import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Random } from '../../src/core/random';
import { blockRepeats, describeSampling, drawToken } from '../../src/core/sampling';

/** How often each token is drawn in `draws` draws. */
function frequencies(probabilities: number[], options: Parameters<typeof drawToken>[1], draws = 4000): number[] {
  const random = new Random(3);
  const counts = probabilities.map(() => 0);
  for (let i = 0; i < draws; i++) counts[drawToken(Float32Array.from(probabilities), options, random)]++;
  return counts.map((c) => c / draws);
}

describe('drawing the next token of generated text', () => {
  const probabilities = [0.05, 0.5, 0.3, 0.1, 0.05];

  it('takes the likeliest token at temperature 0', () => {
    assert.deepEqual(frequencies(probabilities, { temperature: 0, topP: 0.5 }, 10), [0, 1, 0, 0, 0]);
  });

  it('draws every token as often as its probability at temperature 1 and top-p 1', () => {
    frequencies(probabilities, { temperature: 1 }).forEach((f, i) => assert.ok(Math.abs(f - probabilities[i]) < 0.025, `token ${i}: ${f}`));
  });

  it('draws only from the fewest likeliest tokens that hold top-p of the probability, in their proportions', () => {
    // 0.5 + 0.3 = 0.8 reaches top-p 0.8: the other three are never drawn.
    const drawn = frequencies(probabilities, { temperature: 1, topP: 0.8 });
    assert.deepEqual([drawn[0], drawn[3], drawn[4]], [0, 0, 0]);
    assert.ok(Math.abs(drawn[1] - 0.5 / 0.8) < 0.025 && Math.abs(drawn[2] - 0.3 / 0.8) < 0.025, `${drawn}`);
    // Just above 0.8 the next likeliest token joins.
    assert.ok(frequencies(probabilities, { temperature: 1, topP: 0.85 })[3] > 0.05);
  });

  it('sharpens the distribution below temperature 1 before the nucleus is taken', () => {
    const drawn = frequencies(probabilities, { temperature: 0.5, topP: 0.8 });
    // p² ∝ 0.25, 0.09, 0.01…: 0.5 alone holds 0.25 / 0.355 = 70% of it, so 0.3 joins, and nothing else.
    assert.ok(Math.abs(drawn[1] - 0.25 / 0.34) < 0.03, `${drawn}`);
    assert.equal(drawn[3], 0);
  });
});

describe('keeping generated text out of loops', () => {
  const vocabulary = 6;
  const uniform = () => new Float32Array(vocabulary).fill(1 / vocabulary);
  const blockedBy = (history: number[], n: number) => {
    const probabilities = uniform();
    blockRepeats(probabilities, history, n);
    return [...probabilities.keys()].filter((id) => probabilities[id] === 0);
  };

  it('blocks exactly the tokens that would end a run of n tokens the text already has', () => {
    // History 1 2 3 1 2: the tail "1 2" came before, followed by 3; "2 3" and "3 1" are not the tail.
    assert.deepEqual(blockedBy([1, 2, 3, 1, 2], 3), [3]);
    // Every earlier "2" was followed by 3 or 5: with pairs, both are blocked after a 2.
    assert.deepEqual(blockedBy([2, 3, 4, 2, 5, 2], 2), [3, 5]);
    // n = 1: no token of the text comes again.
    assert.deepEqual(blockedBy([4, 1, 4], 1), [1, 4]);
    // Nothing repeats yet, or the rule is off.
    assert.deepEqual(blockedBy([1, 2, 3, 4], 3), []);
    assert.deepEqual(blockedBy([1, 2, 1, 2], 0), []);
    assert.deepEqual(blockedBy([1], 3), []);
  });

  it('leaves the probabilities alone when blocking would leave nothing to draw', () => {
    const probabilities = Float32Array.from([0, 0, 0, 1, 0, 0]);
    blockRepeats(probabilities, [2, 3, 2], 2);
    assert.deepEqual([...probabilities], [0, 0, 0, 1, 0, 0]);
    // With another token left to draw, the repeat goes.
    const withAnother = Float32Array.from([0, 0, 0, 1, 0, 0.5]);
    blockRepeats(withAnother, [2, 3, 2], 2);
    assert.deepEqual([...withAnother], [0, 0, 0, 0, 0, 0.5]);
  });

  it('says in words how a sample is drawn', () => {
    assert.equal(describeSampling({ temperature: 0, noRepeat: 3 }), 'the likeliest word each time, never the same 3 tokens twice');
    assert.equal(describeSampling({ temperature: 0, noRepeat: 3, beam: 8 }), 'the likeliest of 8 continuations followed side by side, never the same 3 tokens twice');
    assert.equal(describeSampling({ temperature: 0.7, topP: 0.8 }, 1), 'temperature 0.7, top-p 0.8, seed 1');
    assert.equal(describeSampling({ temperature: 1 }), 'temperature 1');
  });
});
