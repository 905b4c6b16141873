/** The Kneser-Ney trigram and the counting baselines built on it (DESIGN.md §5). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CountingBaselines } from '../../src/core/baselines';
import { splitText } from '../../src/core/dataset';
import { KneserNeyTrigram } from '../../src/core/kneserNey';
import { describeHeldOut } from '../../src/core/perCharacter';
import { Tokenizer } from '../../src/core/tokenizer';
import { mobyDickChapter } from './helpers';

/** The first 50 chapters, the last tenth held out, with the default vocabulary rule (words seen twice). */
function mobyDickSplit() {
  const text = Array.from({ length: 50 }, (_, i) => mobyDickChapter(i + 1)).join('\n\n');
  const { trainText, validationText } = splitText(text, 0.1);
  const tokenizer = Tokenizer.fit(trainText, { minCount: 2 });
  return { tokenizer, train: tokenizer.encode(trainText), heldOut: tokenizer.encode(validationText), validationText };
}

const moby = mobyDickSplit();
const model = KneserNeyTrigram.fit(moby.train, moby.tokenizer.vocabSize);

function sum(values: Float64Array): number {
  return values.reduce((total, p) => total + p, 0);
}

/** The old baseline: absolute discounting 0.75 over an add-one unigram, no continuation counts. */
function addOneBigramCrossEntropy(train: Int32Array, heldOut: Int32Array, vocabSize: number): number {
  const unigrams = new Float64Array(vocabSize);
  const pairs = new Map<number, Map<number, number>>();
  for (let i = 0; i < train.length; i++) {
    unigrams[train[i]]++;
    if (i === 0) continue;
    const followers = pairs.get(train[i - 1]) ?? new Map<number, number>();
    followers.set(train[i], (followers.get(train[i]) ?? 0) + 1);
    pairs.set(train[i - 1], followers);
  }
  const unigram = (w: number) => (unigrams[w] + 1) / (train.length + vocabSize);
  let nats = 0;
  for (let i = 1; i < heldOut.length; i++) {
    const followers = pairs.get(heldOut[i - 1]);
    let p = unigram(heldOut[i]);
    if (followers) {
      const total = [...followers.values()].reduce((a, b) => a + b, 0);
      p = Math.max((followers.get(heldOut[i]) ?? 0) - 0.75, 0) / total + ((0.75 * followers.size) / total) * p;
    }
    nats -= Math.log(p);
  }
  return nats / (heldOut.length - 1);
}

describe('KneserNeyTrigram', () => {
  const [u, v] = [moby.train[100], moby.train[101]];
  const contexts: [string, number | undefined, number | undefined][] = [
    ['a seen context', u, v],
    ['a context whose pair was never seen', v, u === v ? u + 1 : u],
    ['a context word never seen', undefined, moby.tokenizer.vocabSize - 1],
    ['the padded start of a text', undefined, undefined],
    ['one padded word', undefined, moby.train[0]],
  ];
  for (const [name, first, second] of contexts) {
    it(`gives a distribution that sums to 1 and matches probability() for ${name}`, () => {
      const distribution = model.distribution(first, second);
      assert.equal(distribution.length, moby.tokenizer.vocabSize);
      assert.ok(Math.abs(sum(distribution) - 1) < 1e-9, String(sum(distribution)));
      for (let w = 0; w < distribution.length; w++) {
        assert.ok(distribution[w] > 0, `P(${w}) is ${distribution[w]}`);
        assert.ok(Math.abs(distribution[w] - model.probability(first, second, w)) < 1e-15, `entry ${w}`);
      }
    });
  }

  it('scores the same after a round trip through JSON', () => {
    const again = KneserNeyTrigram.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
    assert.equal(again.crossEntropy(moby.heldOut), model.crossEntropy(moby.heldOut));
    assert.deepEqual(again.distribution(u, v), model.distribution(u, v));
  });

  it('keeps its discounts valid and its distributions whole on a tiny text', () => {
    for (const stream of [[0, 1, 2], [1, 1, 1, 1], [2]]) {
      const tiny = KneserNeyTrigram.fit(Int32Array.from(stream), 4);
      const discounts = (tiny as unknown as { discounts: Record<string, number[]> }).discounts;
      for (const order of Object.values(discounts)) order.forEach((d, k) => assert.ok(d > 0 && d < k + 1, `D${k + 1} = ${d}`));
      for (const [a, b] of [[undefined, undefined], [0, 1], [3, 3], [undefined, 2]] as const) {
        const distribution = tiny.distribution(a, b);
        assert.ok(Math.abs(sum(distribution) - 1) < 1e-12 && distribution.every((p) => p > 0), `${stream} | ${a} ${b}`);
      }
    }
  });

  it('refuses a table that is not one', () => {
    for (const json of [null, { format: 'seqlab-ngrams', version: 2, vocabSize: 3, padding: 3, trigrams: [0, 0, 3, 1] }, { format: 'x' }]) {
      assert.throws(() => KneserNeyTrigram.fromJSON(json), /ngrams\.json is not a valid table/);
    }
  });

  it('beats the add-one-backed bigram SeqLab used before on held-out Moby Dick', () => {
    const kn3 = Math.exp(model.crossEntropy(moby.heldOut));
    const bigram = Math.exp(addOneBigramCrossEntropy(moby.train, moby.heldOut, moby.tokenizer.vocabSize));
    assert.ok(kn3 < bigram * 0.95, `KN3 ${kn3.toFixed(1)} vs bigram ${bigram.toFixed(1)}`);
  });
});

describe('CountingBaselines', () => {
  const heldOut = describeHeldOut(
    moby.validationText,
    moby.tokenizer.tokenize(moby.validationText),
    moby.heldOut,
    moby.tokenizer.unknownId,
    { nats: (word) => 2 * word.length },
  );

  it('scores the uniform guess, the unigram and KN3 on the same targets', () => {
    const baselines = CountingBaselines.fit(moby.train, moby.tokenizer.vocabSize).score(heldOut);
    assert.equal(baselines.uniform, moby.tokenizer.vocabSize);
    assert.ok(Math.abs(Math.log(baselines.kn3) - model.crossEntropy(moby.heldOut)) < 1e-12);
    assert.ok(baselines.kn3 < baselines.unigram && baselines.unigram < baselines.uniform);
    const targets = moby.heldOut.length - 1;
    const unknown = moby.heldOut.subarray(1).filter((id) => id === 0).length;
    assert.equal(baselines.unknownShare, unknown / targets);
    const perChar = (Math.log(baselines.kn3) * targets + heldOut.spellingNats!) / heldOut.characters;
    assert.ok(Math.abs(baselines.kn3NatsPerChar! - perChar) < 1e-9);
  });

  it('reads a version 1 file of word pairs as a Kneser-Ney bigram with the same unigram', () => {
    const vocabSize = moby.tokenizer.vocabSize;
    const unigrams = new Array<number>(vocabSize).fill(0);
    const pairs = new Map<string, number>();
    moby.train.forEach((id, i) => {
      unigrams[id]++;
      if (i > 0) pairs.set(`${moby.train[i - 1]},${id}`, (pairs.get(`${moby.train[i - 1]},${id}`) ?? 0) + 1);
    });
    const bigrams = [...pairs].flatMap(([key, count]) => [...key.split(',').map(Number), count]);
    const old = CountingBaselines.fromJSON({ format: 'seqlab-ngrams', version: 1, vocabSize, unigrams, bigrams }).score(heldOut);
    const current = CountingBaselines.fit(moby.train, vocabSize).score(heldOut);
    assert.ok(Math.abs(old.unigram - current.unigram) < 1e-9, 'the unigram counts come back whole');
    const bigram = Math.exp(addOneBigramCrossEntropy(moby.train, moby.heldOut, vocabSize));
    // Fewer words of context than KN3, better smoothing than the old bigram.
    assert.ok(current.kn3 < old.kn3 && old.kn3 < bigram, `KN3 ${current.kn3}, KN bigram ${old.kn3}, old bigram ${bigram}`);
    assert.throws(() => CountingBaselines.fromJSON({ format: 'seqlab-ngrams', version: 1, vocabSize, unigrams: [1], bigrams }), /not a valid table/);
  });
});
