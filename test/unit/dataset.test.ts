import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countedStream, epochStream, evaluationBatches, MIN_SEQ_LEN, minimumTokens, splitStream, splitText, trainingBatches, withRareAsUnknown } from '../../src/core/dataset';
import { UserError } from '../../src/core/errors';
import { Random } from '../../src/core/random';

const stream = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('splitText', () => {
  it('holds out the last share of the text, cut between words', () => {
    const text = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    const { trainText, validationText } = splitText(text, 0.1);
    assert.equal(trainText + validationText, text);
    assert.match(validationText, /^ word\d+ /);
    assert.ok(Math.abs(validationText.length - text.length * 0.1) < 10);
  });

  it('keeps everything for training when the validation share is 0', () => {
    assert.deepEqual(splitText('a b c', 0), { trainText: 'a b c', validationText: '' });
  });

  it('holds out at least two tokens of a short text', () => {
    const { validationText } = splitText('one two three four five six seven eight nine ten eleven', 0.05);
    assert.equal(validationText, ' ten eleven');
  });
});

describe('splitStream', () => {
  it('keeps the requested window when the text is long enough', () => {
    const split = splitStream(stream(900), stream(100), 32, 0.1);
    assert.equal(split.train.length, 900);
    assert.equal(split.validation.length, 100);
    assert.equal(split.seqLen, 32);
  });

  it('shrinks the window for a short text instead of failing', () => {
    const split = splitStream(stream(30), stream(0), 32, 0);
    assert.ok(split.seqLen < 32 && split.seqLen >= MIN_SEQ_LEN, `seqLen ${split.seqLen}`);
    assert.ok(Math.floor((split.train.length - 1) / split.seqLen) >= 2);
  });

  it('says how many tokens a too-short text has and needs', () => {
    const needed = minimumTokens(0.1);
    assert.throws(
      () => splitStream(stream(4), stream(2), 32, 0.1, 'notes.txt'),
      (error: unknown) => error instanceof UserError && error.message === `notes.txt has 6 tokens; training needs at least ${needed}.`,
    );
    // The stated minimum is exactly enough when split the usual way.
    assert.doesNotThrow(() => splitStream(stream(needed - 2), stream(2), 32, 0.1));
    assert.throws(() => splitStream(stream(needed - 3), stream(2), 32, 0.1), UserError);
  });

  it('needs a held-out part of two tokens when there is a validation share', () => {
    assert.throws(() => splitStream(stream(100), stream(1), 32, 0.1), UserError);
  });
});

describe('training batches', () => {
  it('pairs every input with the next token as its target', () => {
    const batches = trainingBatches(stream(200), 8, 4, new Random(1));
    for (const batch of batches) {
      assert.equal(batch.inputs.length, batch.rows * 8);
      assert.ok(batch.rows <= 4);
      for (let i = 0; i < batch.inputs.length; i++) assert.equal(batch.targets[i], batch.inputs[i] + 1);
    }
  });

  it('cuts the stream into lanes that each batch continues, from an offset fixed by the seed', () => {
    const batches = (seed: number) => trainingBatches(stream(200), 8, 4, new Random(seed));
    const starts = (seed: number) => batches(seed).flatMap((b) => Array.from({ length: b.rows }, (_, r) => b.inputs[r * 8]));
    const a = starts(7);
    assert.deepEqual(a, starts(7));
    assert.notDeepEqual(a, starts(8));
    const sorted = [...a].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i] - sorted[i - 1] >= 8, 'windows overlap');
    assert.ok(a.length >= 20, `only ${a.length} windows from 200 tokens`);
    const epoch = batches(7);
    assert.equal(epoch[0].continues, false);
    for (let k = 1; k < epoch.length; k++) {
      assert.equal(epoch[k].continues, true);
      for (let r = 0; r < epoch[k].rows; r++) assert.equal(epoch[k].inputs[r * 8], epoch[k - 1].inputs[r * 8 + 7] + 1, 'row does not continue its lane');
    }
  });

  it('scores every validation target exactly once', () => {
    const validation = stream(77);
    const batches = evaluationBatches(validation, 8, 3);
    const targets = batches.flatMap((b) => [...b.targets]).sort((x, y) => x - y);
    assert.deepEqual(targets, [...validation.subarray(1)]);
    // Lanes are read to their end, each window continuing the one before.
    for (let k = 1; k < batches.length; k++) {
      if (!batches[k].continues) continue;
      const [previous, next] = [batches[k - 1], batches[k]];
      for (let r = 0; r < next.rows; r++) assert.equal(next.inputs[r * next.seqLen], previous.targets[r * previous.seqLen + previous.seqLen - 1]);
    }
  });
});

describe('rare words read as unknown', () => {
  // Ids 1–3 come often; 10–409 once each.
  const stream = Int32Array.from({ length: 1200 }, (_, i) => (i % 3 === 0 ? 10 + i / 3 : 1 + (i % 3)));
  const seenOnce = (id: number) => id >= 10;

  it('turns about `share` of the words seen once into <unk>, and nothing else', () => {
    const read = withRareAsUnknown(stream, 0.5, new Random(3));
    let unknown = 0;
    read.forEach((id, i) => {
      if (id === stream[i]) return;
      assert.equal(id, 0, 'a word is only ever replaced by <unk>');
      assert.ok(seenOnce(stream[i]), `word ${stream[i]} is not rare`);
      unknown++;
    });
    // 400 rare words: 200 ± 3 standard deviations (10).
    assert.ok(Math.abs(unknown - 200) < 30, `${unknown} of 400 rare words became <unk>`);
    assert.equal(withRareAsUnknown(stream, 0, new Random(3)), stream, 'share 0 reads the text as it is');
    assert.ok(withRareAsUnknown(stream, 1, new Random(3)).every((id, i) => (seenOnce(stream[i]) ? id === 0 : id === stream[i])));
  });

  it('draws a new choice each epoch, the same again for the same seed and epoch; the count models take one fixed choice', () => {
    const first = epochStream(stream, 0.5, 42, 1);
    assert.deepEqual(epochStream(stream, 0.5, 42, 1), first);
    assert.notDeepEqual(epochStream(stream, 0.5, 42, 2), first);
    assert.deepEqual(countedStream(stream, 0.5, 42), countedStream(stream, 0.5, 42));
  });
});
