/**
 * The surprisal lens's figures against the scoring SeqLab already trusts: a trained run
 * (tiny, one epoch on "Loomings") scores a held-out chapter; every token's nats must be
 * −ln p of the evaluation path, their sum evaluation's total, the ranges the words of
 * the text, the guesses sorted and the rank the real word's place among them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { resolveTrainConfig } from '../../src/core/config';
import { evaluationBatches } from '../../src/core/dataset';
import { computeSurprisal, type SurprisalMap } from '../../src/core/inspect/surprisal';
import { describeHeldOut, natsPerCharacter } from '../../src/core/perCharacter';
import { Predictor } from '../../src/core/predictor';
import { trainRun } from '../../src/core/run';
import { scoreBatches, targetProbabilities } from '../../src/core/scoring';
import { loadRun, loadSpelling, type LoadedRun } from '../../src/core/store';
import { NEWLINE_TOKEN } from '../../src/core/tokenizer';
import type { SpellingModel } from '../../src/core/spelling';
import { surprisalBucket, SURPRISAL_BUCKETS, SURPRISAL_LIGHT_COLOURS } from '../../src/protocol/surprisal';
import { makeTempDir, mobyDickChapter, useWasm } from './helpers';

/** Odd whitespace, \r\n and \r, a run of blank lines, punctuation and words the run never saw. */
const ODD_TEXT =
  '  Whaling   voyage\tby one Ishmael.\r\n\r\n\r\n\r\n"Grand Contested Election for the Presidency of the United States."\r' +
  'Zyxqwv and Brrrumph—quoth the sea;   BLOODY BATTLE IN AFFGHANISTAN!\n\n   the end';

let root: string;
let run: LoadedRun;
let spelling: SpellingModel | undefined;

before(async () => {
  await useWasm();
  root = await makeTempDir('surprisal');
  const config = resolveTrainConfig({ cell: 'gru', embedding: 16, units: 16, seqLen: 16, batch: 4, epochs: 1, dropout: 0 });
  const summary = await trainRun({ text: mobyDickChapter(1), sources: [], name: 'Loomings', config, runsDir: root, runName: 'gru' });
  run = await loadRun(summary.modelDir);
  spelling = await loadSpelling(summary.modelDir);
});
after(async () => {
  run?.model.dispose();
  await fs.rm(root, { recursive: true, force: true });
});

function score(text: string): Promise<SurprisalMap> {
  const { seqLen, batch } = run.record.config;
  return computeSurprisal(run.model, run.tokenizer, text, { seqLen, batch, spelling });
}

describe('surprisal of each token', () => {
  it('is −ln p of the evaluation path, token by token, and adds up to evaluation\'s total', async () => {
    const text = mobyDickChapter(2);
    const map = await score(text);
    const { seqLen, batch } = run.record.config;
    const ids = run.tokenizer.encode(text);
    assert.deepEqual(map.ids, ids);
    assert.ok(Number.isNaN(map.nats[0]), 'the first token is read, not predicted');
    const probabilities = targetProbabilities(run.model, ids, seqLen, batch);
    for (let i = 1; i < ids.length; i++) {
      assert.ok(Math.abs(map.nats[i] + Math.log(probabilities[i - 1])) < 2e-4, `token ${i}: ${map.nats[i]} nats, evaluation −ln p = ${-Math.log(probabilities[i - 1])}`);
    }
    const evaluation = await scoreBatches(run.model, evaluationBatches(ids, seqLen, batch));
    assert.equal(map.predicted, evaluation.tokens);
    const total = evaluation.loss * evaluation.tokens;
    assert.ok(Math.abs(map.totalNats - total) < 1e-4 * total, `Σ ${map.totalNats} against evaluation's ${total}`);

    // With the spelling of unknown words, the total is nats per character's numerator.
    const tokens = run.tokenizer.tokenize(text);
    const heldOut = describeHeldOut(text, tokens, ids, run.tokenizer.unknownId, spelling);
    let withSpelling = 0;
    for (let i = 1; i < map.length; i++) withSpelling += map.nats[i] + (Number.isNaN(map.spellingNats[i]) ? 0 : map.spellingNats[i]);
    const expected = natsPerCharacter(total, heldOut)! * heldOut.characters;
    assert.ok(heldOut.unknownTargets > 0, 'the chapter has unknown words');
    assert.ok(Math.abs(withSpelling - expected) < 1e-4 * expected, `Σ with spelling ${withSpelling} against ${expected}`);
  });

  it('places every token on its own characters, through odd whitespace, line breaks, punctuation and unknown words', async () => {
    const map = await score(ODD_TEXT);
    const tokens = run.tokenizer.tokenize(ODD_TEXT);
    assert.equal(map.length, tokens.length);
    map.tokens().forEach((token, i) => {
      const covered = ODD_TEXT.slice(token.start, token.end);
      if (tokens[i] === NEWLINE_TOKEN) assert.match(covered, /^(\r\n|\r|\n)$/);
      else assert.equal(covered, tokens[i]);
      assert.equal(token.unknown, map.ids[i] === run.tokenizer.unknownId);
      if (i > 0) assert.ok(token.start >= map.spans[i - 1].end);
    });
    const unknown = map.tokens().filter((t) => t.unknown && t.nats !== null);
    assert.ok(unknown.length >= 2, 'the odd words are unknown');
    for (const token of unknown) {
      assert.equal(token.rank, null, 'an unknown word has no rank among the words');
      assert.ok(token.spellingNats! > 0, 'an unknown word pays for its spelling');
      assert.ok(Math.abs(token.spellingNats! - spelling!.nats(ODD_TEXT.slice(token.start, token.end))) < 1e-9);
    }
    // The hover finds a token by any offset inside it, and nothing in the spaces between.
    const zyx = ODD_TEXT.indexOf('Zyxqwv');
    assert.equal(map.spans[map.indexAt(zyx + 3)!].token, 'Zyxqwv');
    assert.equal(map.indexAt(0), undefined);
  });

  it('gives five guesses sorted by probability, as the predictor ranks them, and the real word\'s rank among them', async () => {
    const text = mobyDickChapter(3).slice(0, 3000);
    const map = await score(text);
    let ranked = 0;
    for (let i = 1; i < map.length; i++) {
      const guesses = map.guesses(i);
      assert.equal(guesses.length, 5);
      for (let k = 1; k < 5; k++) assert.ok(guesses[k - 1].probability >= guesses[k].probability);
      assert.ok(guesses.every((g) => g.token !== '<unk>'));
      const rank = map.ranks[i];
      if (rank === 0) continue;
      const p = Math.exp(-map.nats[i]);
      // Rank r: exactly r − 1 real words are more likely than the real one.
      if (rank <= 5) {
        ranked++;
        assert.equal(guesses[rank - 1].token, map.spans[i].token, `token ${i} has rank ${rank}`);
        assert.ok(Math.abs(guesses[rank - 1].probability - p) < 1e-5);
      } else {
        assert.ok(guesses[4].probability >= p);
      }
    }
    assert.ok(ranked > 0, 'the model guesses some words');
    // The guesses at the end of a lane match a fresh predictor reading the same lane from its start.
    const { seqLen, batch } = run.record.config;
    const [first] = evaluationBatches(map.ids, seqLen, batch);
    const laneStart = first.starts![1];
    const at = laneStart + 10;
    const predictor = new Predictor(run.model, run.tokenizer);
    const laneText = text.slice(map.spans[laneStart].start, map.spans[at].start);
    const probabilities = predictor.nextProbabilities(laneText);
    predictor.dispose();
    const expected = [...probabilities.keys()].filter((id) => id !== run.tokenizer.unknownId).sort((a, b) => probabilities[b] - probabilities[a]).slice(0, 5);
    assert.deepEqual(map.guesses(at).map((g) => g.token), expected.map((id) => run.tokenizer.vocab[id]));
    map.guesses(at).forEach((g, k) => assert.ok(Math.abs(g.probability - probabilities[expected[k]]) < 1e-5));
    assert.ok(Math.abs(map.nats[at] + Math.log(probabilities[map.ids[at]])) < 1e-4);
  });
});

describe('surprisal buckets', () => {
  it('shade from expected to surprising in fixed steps, and the editor\'s light colours are the SVG\'s', async () => {
    assert.deepEqual([0, 1.9, 2, 5, 7.99, 8, 30].map(surprisalBucket), [0, 0, 1, 2, 3, 4, 4]);
    const manifest = JSON.parse(await fs.readFile(new URL('../../package.json', `file://${__filename}`), 'utf8'));
    const colours = (manifest.contributes.colors as { id: string; defaults: { light: string } }[]).filter((c) => c.id.startsWith('seqlab.surprisal'));
    assert.equal(colours.length, SURPRISAL_BUCKETS);
    assert.deepEqual(colours.map((c) => c.defaults.light), [...SURPRISAL_LIGHT_COLOURS]);
  });
});
