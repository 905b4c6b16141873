import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/core/backend';
import { UserError } from '../../src/core/errors';
import { Tokenizer } from '../../src/core/tokenizer';
import { CountingBaselines } from '../../src/core/baselines';
import { SpellingModel } from '../../src/core/spelling';
import { DEFAULT_NEW_WORD_SHARE } from '../../src/core/newWordSpelling';
import { fileHandler, listRuns, loadNgrams, loadRun, loadSpelling, RunWriter, type RunRecord, type RunStatus } from '../../src/core/store';
import type { EpochMetrics, TrainConfig } from '../../src/protocol/types';

const CORPUS = 'the cat sat on the mat and the dog sat on the log while the bird sang';

let root: string;
let tokenizer: Tokenizer;
let runCount = 0;
let tensorsAtStart = 0;
let leakedByTfjs = 0;

before(async () => {
  await initBackend('wasm');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-store-'));
  tokenizer = Tokenizer.fit(CORPUS);
  tensorsAtStart = tf.memory().numTensors;
});

after(async () => {
  // Every model loaded, including by failed loads, must have been disposed.
  assert.equal(tf.memory().numTensors, tensorsAtStart + leakedByTfjs);
  await fs.rm(root, { recursive: true, force: true });
});

function buildModel(vocab: number, cell: 'rnn' | 'lstm' = 'rnn'): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.embedding({ inputDim: vocab, outputDim: 4, inputShape: [null] as unknown as number[] }));
  const recurrent = { units: 5, returnSequences: true };
  model.add(cell === 'lstm' ? tf.layers.lstm(recurrent) : tf.layers.simpleRNN(recurrent));
  model.add(tf.layers.dense({ units: vocab, activation: 'softmax' }));
  return model;
}

/** Next-token probabilities for a fixed batch of two 3-token windows. */
function predict(model: tf.LayersModel): number[][][] {
  const input = tf.tensor2d([[1, 2, 3], [3, 0, 1]], [2, 3], 'int32');
  const output = model.predict(input) as tf.Tensor;
  const values = output.arraySync() as number[][][];
  tf.dispose([input, output]);
  return values;
}

const CONFIG: TrainConfig = {
  maxVocab: 1000, minCount: 1, lowercase: true, cell: 'rnn', embedding: 4, units: 5, layers: 1,
  dropout: 0, inputDropout: 0, weightDrop: 0, distill: 0, tieWeights: false, subwordVectors: false, rareAsUnknown: 0, seqLen: 3, batch: 2, epochs: 2, learningRate: 0.01, clipNorm: 5, lrDecay: 1, averageDecay: 0, valSplit: 0.1, threads: 1, softmaxSamples: 0,
  patience: 0, seed: 1, backend: 'wasm',
};

function record(id: string, status: RunStatus, createdAt = new Date().toISOString()): RunRecord {
  return {
    format: 'seqlab-run', version: 1, id, status, config: CONFIG,
    corpus: { sha256: 'ab'.repeat(32), tokens: 17, sources: ['/tmp/corpus.txt'] },
    backend: 'wasm', versions: { seqlab: '0.1.0', tfjs: tf.version.tfjs },
    vocabSize: tokenizer.vocabSize, params: 0, createdAt,
  };
}

function metrics(epoch: number): EpochMetrics {
  return {
    epoch, epochs: 2, loss: 3 - epoch / 10, accuracy: 0.1 * epoch, valLoss: 3.1, valAccuracy: 0.1,
    valPerplexity: Math.exp(3.1), tokensPerSecond: 1000, elapsedSeconds: epoch, etaSeconds: 2 - epoch, best: true, partial: false,
  };
}

/** A complete run folder on disk; returns its path and the predictions of the saved model. */
async function saveRun(options: { status?: RunStatus; vocab?: number; cell?: 'rnn' | 'lstm' } = {}) {
  const dir = path.join(root, `run-${++runCount}`);
  const writer = await RunWriter.create(dir);
  await writer.writeRecord(record(path.basename(dir), 'training'));
  await writer.writeTokenizer(tokenizer.toJSON());
  const model = buildModel(options.vocab ?? tokenizer.vocabSize, options.cell);
  await writer.saveModel(model);
  await writer.appendMetrics(metrics(1));
  await writer.appendMetrics(metrics(2));
  await writer.writeRecord({ ...record(path.basename(dir), options.status ?? 'done'), finishedAt: new Date().toISOString() });
  const expected = predict(model);
  model.dispose();
  return { dir, writer, expected };
}

/** Asserts loadRun fails with a UserError matching `pattern`. */
async function loadFails(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadRun(dir), (error: unknown) => {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('saving and loading a run', () => {
  for (const cell of ['rnn', 'lstm'] as const) {
    it(`round-trips a ${cell} model with identical predictions`, async () => {
      const { dir, expected } = await saveRun({ cell });
      const run = await loadRun(dir);
      assert.equal(run.record.status, 'done');
      assert.equal(run.complete, true);
      assert.equal(run.tokenizer.vocabSize, tokenizer.vocabSize);
      assert.deepEqual(predict(run.model), expected);
      run.model.dispose();

      // Plain TF.js, as a web page or another tool would load it.
      const plain = await tf.loadLayersModel(fileHandler(dir));
      assert.deepEqual(predict(plain), expected);
      plain.dispose();
    });
  }

  it('writes the standard TF.js layers format and no stray files', async () => {
    const { dir } = await saveRun();
    assert.deepEqual((await fs.readdir(dir)).sort(), [
      'config.json', 'metrics.jsonl', 'model.json', 'tokenizer.json', 'weights-1.bin',
    ]);
    const modelJson = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
    assert.equal(modelJson.format, 'layers-model');
    assert.match(modelJson.generatedBy, /TensorFlow\.js/);
    assert.ok('convertedBy' in modelJson);
    assert.equal(modelJson.modelTopology.class_name, 'Sequential');
    assert.deepEqual(modelJson.weightsManifest[0].paths, ['weights-1.bin']);
    const classes = modelJson.modelTopology.config.layers.map((layer: { class_name: string }) => layer.class_name);
    assert.deepEqual(classes, ['Embedding', 'SimpleRNN', 'Dense']);
  });

  it('keeps only the latest weights file when saving twice', async () => {
    const dir = path.join(root, 'twice');
    const writer = await RunWriter.create(dir);
    await writer.writeRecord(record('twice', 'training'));
    await writer.writeTokenizer(tokenizer.toJSON());
    const model = buildModel(tokenizer.vocabSize);
    await writer.saveModel(model);
    // Change the weights so the second save is distinguishable from the first.
    const dense = model.layers[2];
    const changed = dense.getWeights().map((w) => tf.fill(w.shape, 0.25));
    dense.setWeights(changed);
    tf.dispose(changed);
    await writer.saveModel(model);
    const expected = predict(model);
    model.dispose();

    const weights = (await fs.readdir(dir)).filter((name) => name.endsWith('.bin'));
    assert.deepEqual(weights, ['weights-2.bin']);
    const run = await loadRun(dir);
    assert.deepEqual(predict(run.model), expected);
    run.model.dispose();
  });

  it('survives a crash between writing weights and model.json', async () => {
    const { dir, writer, expected } = await saveRun();
    // What a crash mid-save leaves: new weights nobody points at yet, a half-written temp model.json.
    await fs.writeFile(path.join(dir, 'weights-7.bin'), Buffer.alloc(12));
    await fs.writeFile(path.join(dir, '.model.json.999.deadbeef.tmp'), '{"modelTop');
    const run = await loadRun(dir);
    assert.deepEqual(predict(run.model), expected);
    // The next save never reuses a name that exists and clears the orphan away.
    await writer.saveModel(run.model);
    run.model.dispose();
    assert.deepEqual((await fs.readdir(dir)).filter((name) => name.endsWith('.bin')), ['weights-8.bin']);
  });

  it('serialises saves that are started together', async () => {
    const dir = path.join(root, 'together');
    const writer = await RunWriter.create(dir);
    await writer.writeRecord(record('together', 'training'));
    await writer.writeTokenizer(tokenizer.toJSON());
    const model = buildModel(tokenizer.vocabSize);
    await Promise.all([writer.saveModel(model), writer.saveModel(model), writer.saveModel(model)]);
    model.dispose();
    assert.deepEqual((await fs.readdir(dir)).filter((name) => name.endsWith('.bin')), ['weights-3.bin']);
    const run = await loadRun(dir);
    run.model.dispose();
  });

  it('writes extra JSON files atomically, but not over the core files', async () => {
    const { dir, writer } = await saveRun();
    await writer.writeJson('ngrams.json', { format: 'seqlab-ngrams', counts: [1, 2] });
    assert.deepEqual(JSON.parse(await fs.readFile(path.join(dir, 'ngrams.json'), 'utf8')), {
      format: 'seqlab-ngrams',
      counts: [1, 2],
    });
    for (const name of ['config.json', 'model.json', 'weights-9.bin', '../escape.json', '.hidden.json']) {
      assert.throws(() => writer.writeJson(name, {}), /cannot write/);
    }
    assert.ok(!(await fs.readdir(dir)).some((name) => name.endsWith('.tmp')));
  });

  it('refuses to create a run where one already is', async () => {
    const { dir } = await saveRun();
    await assert.rejects(RunWriter.create(dir), /already holds a SeqLab run/);
  });

  it('refuses to create a run where a file is', async () => {
    const file = path.join(root, 'a-file');
    await fs.writeFile(file, 'x');
    await assert.rejects(RunWriter.create(file), /is not a folder/);
  });
});

describe('metrics.jsonl', () => {
  it('reads appended epochs back in order', async () => {
    const { dir } = await saveRun();
    const run = await loadRun(dir);
    assert.deepEqual(run.metrics, [metrics(1), metrics(2)]);
    run.model.dispose();
  });

  it('skips a truncated last line', async () => {
    const { dir } = await saveRun();
    await fs.appendFile(path.join(dir, 'metrics.jsonl'), '{"epoch":3,"epochs":2,"lo');
    const run = await loadRun(dir);
    assert.deepEqual(run.metrics.map((m) => m.epoch), [1, 2]);
    run.model.dispose();
  });

  it('reports a damaged line in the middle', async () => {
    const { dir } = await saveRun();
    const file = path.join(dir, 'metrics.jsonl');
    const lines = (await fs.readFile(file, 'utf8')).split('\n');
    await fs.writeFile(file, ['{"epo', ...lines].join('\n'));
    await loadFails(dir, /metrics\.jsonl .* damaged at line 1/);
  });

  it('is optional', async () => {
    const { dir } = await saveRun();
    await fs.rm(path.join(dir, 'metrics.jsonl'));
    const run = await loadRun(dir);
    assert.deepEqual(run.metrics, []);
    run.model.dispose();
  });
});

describe('loadRun on a damaged folder', () => {
  it('reports a missing folder', async () => {
    await loadFails(path.join(root, 'no-such-run'), /There is no run folder at .*no-such-run/);
  });

  it('reports a folder without config.json', async () => {
    const { dir } = await saveRun();
    await fs.rm(path.join(dir, 'config.json'));
    await loadFails(dir, /not a SeqLab run folder: it has no config\.json/);
  });

  it('reports a config.json that is not JSON', async () => {
    const { dir } = await saveRun();
    await fs.writeFile(path.join(dir, 'config.json'), '{"format": "seqlab-run", ');
    await loadFails(dir, /config\.json .* is not valid JSON/);
  });

  it('reports a config.json of another format', async () => {
    const { dir } = await saveRun();
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ name: 'something else' }));
    await loadFails(dir, /config\.json .* is not a SeqLab run record/);
  });

  it('reports a run from a newer SeqLab', async () => {
    const { dir } = await saveRun();
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...record('x', 'done'), version: 2 }));
    await loadFails(dir, /newer SeqLab/);
  });

  it('reports a run interrupted before it saved a model', async () => {
    const dir = path.join(root, 'interrupted');
    const writer = await RunWriter.create(dir);
    await writer.writeRecord(record('interrupted', 'training'));
    await writer.writeTokenizer(tokenizer.toJSON());
    await loadFails(dir, /was interrupted before it saved a model/);
  });

  it('loads a run interrupted after it saved a model, as incomplete', async () => {
    const { dir, expected } = await saveRun({ status: 'training' });
    const run = await loadRun(dir);
    assert.equal(run.record.status, 'training');
    assert.equal(run.complete, false);
    assert.deepEqual(predict(run.model), expected);
    run.model.dispose();
  });

  it('reports missing weights', async () => {
    const { dir } = await saveRun();
    await fs.rm(path.join(dir, 'weights-1.bin'));
    await loadFails(dir, /weights file "weights-1\.bin" named in model\.json is missing/);
  });

  it('reports truncated weights', async () => {
    const { dir } = await saveRun();
    const file = path.join(dir, 'weights-1.bin');
    const { size } = await fs.stat(file);
    await fs.truncate(file, size - 4);
    await loadFails(dir, new RegExp(`are ${size - 4} bytes but model\\.json needs ${size}`));
  });

  it('reports a corrupt model.json', async () => {
    const { dir } = await saveRun();
    const file = path.join(dir, 'model.json');
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.slice(0, text.length / 2));
    await loadFails(dir, /model\.json .* is not valid JSON/);
  });

  it('reports a model.json that is not a layers model', async () => {
    const { dir } = await saveRun();
    await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: {} }));
    await loadFails(dir, /model\.json .* is not a TensorFlow\.js layers model \(its format is "graph-model"\)/);
  });

  it('refuses weights outside the run folder', async () => {
    const { dir } = await saveRun();
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(await fs.readFile(file, 'utf8'));
    json.weightsManifest[0].paths = ['../run-1/weights-1.bin'];
    await fs.writeFile(file, JSON.stringify(json));
    await loadFails(dir, /names a weights file outside its folder/);
  });

  it('reports a layer class TF.js does not know', async () => {
    const { dir } = await saveRun();
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(await fs.readFile(file, 'utf8'));
    json.modelTopology.config.layers[1].class_name = 'NoSuchLayer';
    await fs.writeFile(file, JSON.stringify(json));
    await loadFails(dir, /model\.json .* uses a layer TensorFlow\.js does not know, "NoSuchLayer"/);
  });

  it('reports weights whose shapes do not fit the topology', async () => {
    const { dir } = await saveRun();
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(await fs.readFile(file, 'utf8'));
    const weights = json.weightsManifest[0].weights;
    const kernel = weights[weights.length - 2]; // the Dense kernel; its bias comes last
    kernel.shape = [...kernel.shape].reverse(); // same byte count, wrong layout
    await fs.writeFile(file, JSON.stringify(json));
    const before = tf.memory().numTensors;
    await loadFails(dir, /The model in .* could not be loaded: .*shape/i);
    // TF.js itself leaks the half-loaded model here; count it so the final leak check stays exact.
    leakedByTfjs += tf.memory().numTensors - before;
  });

  it('reports a missing tokenizer.json', async () => {
    const { dir } = await saveRun();
    await fs.rm(path.join(dir, 'tokenizer.json'));
    await loadFails(dir, /has no tokenizer\.json/);
  });

  it('reports an invalid tokenizer.json', async () => {
    const { dir } = await saveRun();
    await fs.writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify({ hello: 'world' }));
    await loadFails(dir, /(is damaged: tokenizer\.json|tokenizer\.json in .* is invalid)/);
  });

  it('reports a model and tokenizer from different runs', async () => {
    const { dir } = await saveRun({ vocab: tokenizer.vocabSize + 3 });
    await loadFails(
      dir,
      new RegExp(`predicts ${tokenizer.vocabSize + 3} tokens but its tokenizer has ${tokenizer.vocabSize}`),
    );
  });
});

describe('loadNgrams', () => {
  it('reads back the counts written with writeJson', async () => {
    const { dir, writer } = await saveRun();
    const counts = CountingBaselines.fit(Int32Array.from([1, 2, 1, 2, 3]), tokenizer.vocabSize);
    await writer.writeJson('ngrams.json', counts.toJSON());
    assert.deepEqual((await loadNgrams(dir)).toJSON(), counts.toJSON());
  });

  it('reports a missing or invalid ngrams.json', async () => {
    const { dir, writer } = await saveRun();
    await assert.rejects(loadNgrams(dir), /has no ngrams\.json/);
    await writer.writeJson('ngrams.json', { format: 'something' });
    await assert.rejects(
      loadNgrams(dir),
      (error: unknown) =>
        error instanceof UserError && /(is damaged: ngrams\.json|ngrams\.json in .* is invalid)/.test(error.message),
    );
  });

  it('still reads the word pairs an older SeqLab saved', async () => {
    const { dir, writer } = await saveRun();
    // Version 1 as SeqLab 0.1 wrote it for the stream 1 2 1 2 3.
    const unigrams = new Array<number>(tokenizer.vocabSize).fill(0);
    [unigrams[1], unigrams[2], unigrams[3]] = [2, 2, 1];
    await writer.writeJson('ngrams.json', { format: 'seqlab-ngrams', version: 1, vocabSize: tokenizer.vocabSize, unigrams, bigrams: [1, 2, 2, 2, 1, 1, 2, 3, 1] });
    assert.equal((await loadNgrams(dir)).vocabSize, tokenizer.vocabSize);
  });
});

describe('loadSpelling', () => {
  it('reads back the model written with writeJson, and nothing for a run saved before spelling.json', async () => {
    const { dir, writer } = await saveRun();
    assert.equal(await loadSpelling(dir), undefined);
    const spelling = SpellingModel.fit(['whale', 'ship', 'sea', 'harpoon']);
    await writer.writeJson('spelling.json', spelling.toJSON());
    assert.equal((await loadSpelling(dir))!.nats('whaling'), spelling.nats('whaling'));
  });

  it('reports a damaged spelling.json', async () => {
    const { dir, writer } = await saveRun();
    await writer.writeJson('spelling.json', { format: 'seqlab-spelling', version: 1, letters: [97, 97] });
    await assert.rejects(
      loadSpelling(dir),
      (error: unknown) => error instanceof UserError && /spelling\.json/.test(error.message) && error.message.includes(dir),
    );
  });
});

describe('suggestion.json', () => {
  const settings = { format: 'seqlab-suggestion', version: 1, weights: { network: 0.6, kn3: 0.3, cache: 0.1 }, newWordShare: 0.35, minConfidence: 0.15 };

  /** A run with the counts its suggestion model mixes in. */
  async function runWithCounts() {
    const saved = await saveRun();
    await saved.writer.writeJson('ngrams.json', CountingBaselines.fit(Int32Array.from([1, 2, 1, 2, 3, 1, 2]), tokenizer.vocabSize).toJSON());
    return saved;
  }

  /** Asserts loadRun fails with one sentence that names suggestion.json and the folder. */
  async function failsNamingTheFile(dir: string): Promise<void> {
    await assert.rejects(loadRun(dir), (error: unknown) => {
      assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
      assert.match(error.message, /suggestion\.json/);
      assert.ok(error.message.includes(dir), error.message);
      assert.doesNotMatch(error.message, /\n/);
      assert.match(error.message, /\.$/);
      return true;
    });
  }

  it('is optional: a run saved before it loads, and the network suggests alone', async () => {
    const { dir } = await saveRun();
    const run = await loadRun(dir);
    assert.equal(run.suggestion, undefined);
    run.model.dispose();
  });

  it('loads the fitted weights and threshold with the trigram they mix in', async () => {
    const { dir, writer } = await runWithCounts();
    await writer.writeJson('suggestion.json', settings);
    const run = await loadRun(dir);
    assert.ok(run.suggestion);
    // A suggestion.json saved before the neural cache mixes none of it in.
    assert.deepEqual(run.suggestion.weights, { ...settings.weights, neuralCache: 0 });
    assert.equal(run.suggestion.minConfidence, 0.15);
    assert.equal(run.suggestion.newWordShare, 0.35);
    assert.equal(run.suggestion.kn3.vocabSize, tokenizer.vocabSize);
    run.model.dispose();
  });

  it('loads the neural cache\'s share and settings', async () => {
    const { dir, writer } = await runWithCounts();
    const withNeural = { ...settings, weights: { network: 0.5, kn3: 0.3, cache: 0.05, neuralCache: 0.15 }, neuralCache: { flatness: 0.3, evidence: 2 } };
    await writer.writeJson('suggestion.json', withNeural);
    const run = await loadRun(dir);
    assert.deepEqual(run.suggestion?.weights, withNeural.weights);
    assert.deepEqual(run.suggestion?.neuralCache, { flatness: 0.3, evidence: 2 });
    run.model.dispose();
  });

  it('loads how the network adapts to the document, and none where it does not', async () => {
    const { dir, writer } = await runWithCounts();
    await writer.writeJson('suggestion.json', { ...settings, adaptation: { learningRate: 0.5, segmentTokens: 20 } });
    const run = await loadRun(dir);
    assert.deepEqual(run.suggestion?.adaptation, { learningRate: 0.5, segmentTokens: 20 });
    run.model.dispose();
    await writer.writeJson('suggestion.json', settings);
    const still = await loadRun(dir);
    assert.equal(still.suggestion?.adaptation, undefined);
    still.model.dispose();
  });

  it('saved before the new-word share was fitted gives new words the default share', async () => {
    const { dir, writer } = await runWithCounts();
    const { newWordShare: _, ...older } = settings;
    await writer.writeJson('suggestion.json', older);
    const run = await loadRun(dir);
    assert.equal(run.suggestion?.newWordShare, DEFAULT_NEW_WORD_SHARE);
    run.model.dispose();
  });

  it('that is not JSON fails the load with one sentence naming the file', async () => {
    const { dir } = await runWithCounts();
    await fs.writeFile(path.join(dir, 'suggestion.json'), '{ "format": "seqlab-sugg');
    await failsNamingTheFile(dir);
  });

  it('with weights that do not sum to 1, or a threshold outside 0 to 1, fails the load the same way', async () => {
    for (const damaged of [
      { ...settings, weights: { network: 0.6, kn3: 0.6, cache: 0.1 } },
      { ...settings, minConfidence: 1.5 },
      { ...settings, newWordShare: 1 },
      // A neural-cache share without its settings, and settings out of range.
      { ...settings, weights: { network: 0.5, kn3: 0.3, cache: 0.1, neuralCache: 0.1 } },
      { ...settings, weights: { network: 0.5, kn3: 0.3, cache: 0.1, neuralCache: 0.1 }, neuralCache: { flatness: 1, evidence: -1 } },
      { ...settings, newWordShare: 'most' },
      // Adaptation without a positive step, or with segments the predictor cannot hold.
      { ...settings, adaptation: { learningRate: 0, segmentTokens: 20 } },
      { ...settings, adaptation: { learningRate: 0.5, segmentTokens: 2.5 } },
      { ...settings, adaptation: { learningRate: 0.5, segmentTokens: 100000 } },
      { ...settings, adaptation: true },
      { ...settings, format: 'seqlab-run' },
      [],
    ]) {
      const { dir, writer } = await runWithCounts();
      await writer.writeJson('suggestion.json', damaged);
      await failsNamingTheFile(dir);
    }
  });

  it('without the trigram counts it mixes in fails the load naming ngrams.json', async () => {
    const { dir, writer } = await saveRun();
    await writer.writeJson('suggestion.json', settings);
    await assert.rejects(loadRun(dir), (error: unknown) => error instanceof UserError && /but no ngrams\.json, whose word counts its suggestions mix in/.test(error.message));
    // Counts of word pairs only, as SeqLab 0.1 saved them for the stream 1 2 1 2 3.
    const unigrams = new Array<number>(tokenizer.vocabSize).fill(0);
    [unigrams[1], unigrams[2], unigrams[3]] = [2, 2, 1];
    await writer.writeJson('ngrams.json', { format: 'seqlab-ngrams', version: 1, vocabSize: tokenizer.vocabSize, unigrams, bigrams: [1, 2, 2, 2, 1, 1, 2, 3, 1] });
    await assert.rejects(loadRun(dir), (error: unknown) => error instanceof UserError && /suggestion\.json/.test(error.message) && /ngrams\.json holds no trigram/.test(error.message));
  });
});

describe('listRuns', () => {
  it('lists runs newest first and skips folders that are not runs', async () => {
    const runs = await fs.mkdtemp(path.join(root, 'runs-'));
    for (const [id, createdAt] of [['older', '2024-01-01T00:00:00.000Z'], ['newer', '2024-06-01T00:00:00.000Z']]) {
      const writer = await RunWriter.create(path.join(runs, id));
      await writer.writeRecord(record(id, 'done', createdAt));
    }
    await fs.mkdir(path.join(runs, 'empty-folder'));
    await fs.mkdir(path.join(runs, 'garbage'));
    await fs.writeFile(path.join(runs, 'garbage', 'config.json'), 'not json');
    await fs.mkdir(path.join(runs, 'foreign'));
    await fs.writeFile(path.join(runs, 'foreign', 'config.json'), '{"compilerOptions": {}}');
    await fs.writeFile(path.join(runs, 'notes.txt'), 'a file, not a folder');

    const listed = await listRuns(runs);
    assert.deepEqual(listed.map((r) => r.id), ['newer', 'older']);
  });

  it('takes the id from the folder name', async () => {
    const runs = await fs.mkdtemp(path.join(root, 'renamed-'));
    const writer = await RunWriter.create(path.join(runs, 'original'));
    await writer.writeRecord(record('original', 'done'));
    await fs.rename(path.join(runs, 'original'), path.join(runs, 'renamed'));
    assert.deepEqual((await listRuns(runs)).map((r) => r.id), ['renamed']);
  });

  it('returns nothing for a root that does not exist yet', async () => {
    assert.deepEqual(await listRuns(path.join(root, 'not-yet')), []);
  });
});

describe('RunWriter.createNew', () => {
  it('gives runs started at the same moment folders of their own', async () => {
    const parent = path.join(root, 'parallel');
    const writers = await Promise.all([1, 2, 3].map(() => RunWriter.createNew(parent, 'same-name')));
    assert.deepEqual(writers.map((w) => path.basename(w.dir)).sort(), ['same-name', 'same-name-2', 'same-name-3']);
  });
});
