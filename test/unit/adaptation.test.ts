import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { adaptedTargetProbabilitiesAndStates, AdaptingNetwork, segmentAt, type AdaptationSettings } from '../../src/core/adaptation';
import { resolveTrainConfig } from '../../src/core/config';
import { evaluateText } from '../../src/core/evaluate';
import { natsPerCharacter, describeHeldOut } from '../../src/core/perCharacter';
import { NETWORK_ONLY } from '../../src/core/mixture';
import { buildModel, modelParts } from '../../src/core/model';
import { CELL_TYPES } from '../../src/protocol/types';
import { NEURAL_CACHE_CANDIDATES } from '../../src/core/neuralCache';
import { Predictor, type SuggestionParts } from '../../src/core/predictor';
import { trainRun } from '../../src/core/run';
import { ActiveModel, MAX_DOCUMENTS } from '../../src/server/models';
import { loadNgrams, loadRun, loadSpelling, type LoadedRun } from '../../src/core/store';
import { initBackend } from '../../src/core/backend';
import { FAST_PATH_BACKENDS, makeTempDir, maxAbsDifference, mobyDickChapter, useWasm } from './helpers';

const SETTINGS: AdaptationSettings = { learningRate: 0.5, segmentTokens: 5 };
const TEXT = mobyDickChapter(2).slice(0, 1200);

let root: string;
let run: LoadedRun;
before(async () => {
  await useWasm();
  root = await makeTempDir('adaptation');
  const config = resolveTrainConfig({ embedding: 24, units: 24, seqLen: 16, epochs: 1 });
  const summary = await trainRun({ text: mobyDickChapter(1), sources: [], name: 'Loomings', config, runsDir: root, runName: 'lstm' });
  run = await loadRun(summary.modelDir);
});
after(async () => {
  run.model.dispose();
  await fs.rm(root, { recursive: true, force: true });
});

/** The network alone, adapting with `adaptation` (or not): the suggestion parts that say so. */
function networkOnly(adaptation?: AdaptationSettings): SuggestionParts {
  return { kn3: run.suggestion!.kn3, weights: NETWORK_ONLY, neuralCache: NEURAL_CACHE_CANDIDATES[0], newWordShare: 0, adaptation };
}

function segmentNats(network: AdaptingNetwork, ids: Int32Array): number {
  const scored = network.network.targetLogProbabilities(segmentAt(ids, 0, ids.length - 1));
  tf.dispose(scored.state.flat());
  return -scored.logProbabilities.reduce((sum, x) => sum + x, 0);
}

for (const { backend, skip } of FAST_PATH_BACKENDS) {
  describe(`a network adapting to what it reads, on ${backend}`, { skip }, () => {
    before(() => initBackend(backend));
    after(useWasm);
    learnsAndScores();
  });
}

/** What adapting does on every backend: the step, and scoring that matches the predictor. */
function learnsAndScores() {
  it('learns from a segment without touching the model, keeps its tied weights tied, and resets', () => {
    const ids = run.tokenizer.encode(TEXT).slice(0, 21);
    const modelWeights = run.model.getWeights().map((w) => w.dataSync().slice());
    const adapting = new AdaptingNetwork(run.model, SETTINGS);
    const before = segmentNats(adapting, ids);
    adapting.learn(segmentAt(ids, 0, 20), undefined);
    const after = segmentNats(adapting, ids);
    assert.ok(after < before - 1, `nats of the segment learnt from: ${before} before, ${after} after`);
    run.model.getWeights().forEach((w, i) => assert.equal(maxAbsDifference(w.dataSync(), modelWeights[i]), 0, 'the model changed'));
    const { embeddings, outputKernel } = adapting.parts;
    assert.equal(tf.tidy(() => tf.max(tf.abs(tf.sub(embeddings, tf.transpose(outputKernel)))).dataSync()[0]), 0, 'untied');
    adapting.reset();
    assert.equal(adapting.steps, 0);
    assert.equal(segmentNats(adapting, ids), before);
    adapting.dispose();
  });

  it('scores a text as the predictor reads it, token by token, adapting at the same points', () => {
    const tokens = run.tokenizer.tokenize(TEXT);
    const ids = run.tokenizer.encodeTokens(tokens);
    const expected = adaptedTargetProbabilitiesAndStates(run.model, ids, SETTINGS).probabilities;
    const still = adaptedTargetProbabilitiesAndStates(run.model, ids, { ...SETTINGS, learningRate: 1e-12 }).probabilities;
    const adapting = new Predictor(run.model, run.tokenizer, networkOnly(SETTINGS));
    let compared = 0;
    let worst = 0;
    for (let i = 1; i < ids.length; i++) {
      const prefix = run.tokenizer.detokenize(tokens.slice(0, i));
      // A prefix that tokenizes otherwise on its own is not what the scoring read.
      if (run.tokenizer.encode(prefix).length !== i) continue;
      const actual = adapting.nextProbabilities(prefix)[ids[i]];
      worst = Math.max(worst, Math.abs(actual - expected[i - 1]) / expected[i - 1]);
      compared++;
    }
    assert.ok(compared > 0.9 * ids.length, `compared ${compared} of ${ids.length}`);
    assert.ok(worst < 1e-3, `largest relative difference ${worst}`);
    assert.ok(adapting.stats.adaptationSteps >= Math.floor((ids.length - 1) / SETTINGS.segmentTokens) - 1);
    // The steps change what it predicts: otherwise the comparison above proves nothing.
    assert.ok(maxAbsDifference(expected.slice(-100), still.slice(-100)) > 1e-3, 'adapting changed nothing');
    adapting.dispose();
  });
}

describe('every cell adapts, untied and two layers deep', () => {
  for (const cell of CELL_TYPES) {
    it(`${cell}: a step lowers the segment's nats, carries the state of both layers, and leaves the model as it was`, () => {
      const model = buildModel({ cell, vocabSize: 30, embedding: 6, units: 8, layers: 2, dropout: 0.2 }, 3);
      const ids = Int32Array.from({ length: 41 }, (_, i) => (i * 7) % 29 + 1);
      const before = model.getWeights().map((w) => w.dataSync().slice());
      // Random weights learn slowly from a mean loss: a large step shows it within a few.
      const adapting = new AdaptingNetwork(model, { learningRate: 3, segmentTokens: 20 });
      const first = adapting.network.targetLogProbabilities(segmentAt(ids, 0, 20));
      const nats = () => {
        const scored = adapting.network.targetLogProbabilities(segmentAt(ids, 20, 20), first.state);
        tf.dispose(scored.state.flat());
        return -scored.logProbabilities.reduce((sum, x) => sum + x, 0);
      };
      const start = nats();
      for (let step = 0; step < 5; step++) adapting.learn(segmentAt(ids, 20, 20), first.state);
      assert.ok(nats() < start - 1, `${start} → ${nats()}`);
      model.getWeights().forEach((w, i) => assert.equal(maxAbsDifference(w.dataSync(), before[i]), 0));
      tf.dispose(first.state.flat());
      adapting.dispose();
      model.dispose();
    });
  }
});

describe('a predictor adapting to what it reads', () => {
  it('learns from one segment at most when a whole text comes at once, and forgets on reset', () => {
    const adapting = new Predictor(run.model, run.tokenizer, networkOnly(SETTINGS));
    const plain = new Predictor(run.model, run.tokenizer);
    const tensors = tf.memory().numTensors;
    adapting.nextProbabilities(TEXT);
    assert.equal(adapting.stats.adaptationSteps, 0, 'the step waits until after the answer');
    assert.ok(adapting.learnPending());
    assert.ok(!adapting.learnPending(), 'a pasted text is one step');
    assert.equal(adapting.stats.adaptationSteps, 1);
    const short = 'Call me Ishmael. ';
    adapting.reset();
    assert.ok(maxAbsDifference(adapting.nextProbabilities(short), plain.nextProbabilities(short)) < 1e-6, 'reset kept what it learnt');
    assert.equal(tf.memory().numTensors, tensors, 'adapting leaked tensors');
    adapting.dispose();
    plain.dispose();
  });

  it('keeps what it learnt across a full pass of another text', () => {
    const adapting = new Predictor(run.model, run.tokenizer, networkOnly(SETTINGS));
    const plain = new Predictor(run.model, run.tokenizer);
    adapting.nextProbabilities(TEXT);
    const other = 'It was the best of times. ';
    assert.ok(maxAbsDifference(adapting.nextProbabilities(other), plain.nextProbabilities(other)) > 1e-4);
    assert.equal(adapting.stats.fullPasses, 1);
    adapting.dispose();
    plain.dispose();
  });
});

describe('adapted scoring', () => {
  it('reads a text in one lane from a blank state: with a tiny step, as the model does', () => {
    const ids = run.tokenizer.encode(TEXT);
    const tiny = adaptedTargetProbabilitiesAndStates(run.model, ids, { learningRate: 1e-12, segmentTokens: 7 });
    const plain = new Predictor(run.model, run.tokenizer);
    const tokens = run.tokenizer.tokenize(TEXT);
    const prefix = run.tokenizer.detokenize(tokens.slice(0, 40));
    assert.ok(Math.abs(plain.nextProbabilities(prefix)[ids[40]] - tiny.probabilities[39]) < 1e-5);
    assert.equal(tiny.hidden.length, (ids.length - 1) * modelParts(run.model).units);
    plain.dispose();
  });
});

describe('eval of a suggestion model that adapts', () => {
  it('scores the network adapting beside the network alone, as adapted scoring defines it', async () => {
    const counts = { ngrams: await loadNgrams(run.dir), spelling: await loadSpelling(run.dir), suggestion: { ...run.suggestion!, adaptation: SETTINGS } };
    const report = await evaluateText(run.model, run.tokenizer, counts, TEXT, { seqLen: 16, batch: 8, keystrokeCharacters: 300 });
    const adapted = report.suggestion?.adaptedNetworkNatsPerChar;
    const tokens = run.tokenizer.tokenize(TEXT);
    const heldOut = describeHeldOut(TEXT, tokens, run.tokenizer.encodeTokens(tokens), run.tokenizer.unknownId, counts.spelling);
    const nats = adaptedTargetProbabilitiesAndStates(run.model, heldOut.ids, SETTINGS).probabilities.reduce((sum, p) => sum - Math.log(p), 0);
    assert.ok(adapted !== undefined && adapted !== null);
    assert.ok(Math.abs(adapted - natsPerCharacter(nats, heldOut)!) < 1e-9, `${adapted} against ${natsPerCharacter(nats, heldOut)}`);
    // A model trained one epoch on the chapter before learns much from this one as it reads.
    assert.ok(adapted < report.natsPerChar!, `adapting ${adapted}, alone ${report.natsPerChar}`);
    assert.deepEqual(report.suggestion?.adaptation, SETTINGS);
  });
});

describe('the engine with a suggestion model that adapts', () => {
  it('takes the step a keystroke made due after answering it, between keystrokes', async () => {
    const file = path.join(run.dir, 'suggestion.json');
    const saved = JSON.parse(await fs.readFile(file, 'utf8'));
    await fs.writeFile(file, JSON.stringify({ ...saved, adaptation: SETTINGS }));
    const events: string[] = [];
    const learnPending = Predictor.prototype.learnPending;
    Predictor.prototype.learnPending = function (this: Predictor) {
      const took = learnPending.call(this);
      events.push(took ? 'step' : 'nothing due');
      return took;
    };
    const active = new ActiveModel();
    try {
      await active.use('adapting', run.dir);
      active.suggest('file:///draft.txt', TEXT, { maxWords: 3, minConfidence: null });
      events.push('answered');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(events, ['nothing due', 'answered', 'step']);
    } finally {
      Predictor.prototype.learnPending = learnPending;
      active.clear();
      await fs.writeFile(file, JSON.stringify(saved));
    }
  });
});

describe('the engine with many documents open', () => {
  it('keeps the predictors of the documents typed in last, and reads a forgotten one anew', async () => {
    const disposed: Predictor[] = [];
    const dispose = Predictor.prototype.dispose;
    Predictor.prototype.dispose = function (this: Predictor) {
      disposed.push(this);
      dispose.call(this);
    };
    const active = new ActiveModel();
    const settings = { maxWords: 3, minConfidence: null };
    try {
      await active.use('documents', run.dir);
      const first = active.suggest('file:///0.txt', TEXT.slice(0, 200), settings);
      for (let i = 1; i <= MAX_DOCUMENTS; i++) active.suggest(`file:///${i}.txt`, TEXT.slice(0, 100 + i), settings);
      assert.equal(disposed.length, 1, 'one document past the limit is forgotten');
      // Typing in document 1 again keeps it; the next new document then forgets document 2.
      active.suggest('file:///1.txt', TEXT.slice(0, 110), settings);
      active.suggest('file:///new.txt', TEXT.slice(0, 120), settings);
      assert.equal(disposed.length, 2);
      active.suggest('file:///1.txt', TEXT.slice(0, 111), settings);
      assert.equal(disposed.length, 2, 'document 1 was kept: typing there made no new predictor');
      assert.deepEqual(active.suggest('file:///0.txt', TEXT.slice(0, 200), settings), first, 'a forgotten document suggests as before');
    } finally {
      Predictor.prototype.dispose = dispose;
      active.clear();
    }
  });
});
