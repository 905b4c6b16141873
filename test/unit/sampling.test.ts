import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Random } from '../../src/core/random';
import { drawToken } from '../../src/core/sampling';

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
