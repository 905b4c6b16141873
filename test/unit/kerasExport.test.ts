/**
 * Keras export against the real Keras: a run's model.keras must open with
 * keras.saving.load_model and no custom objects, and predict what the run predicts. Keras
 * comes from a Python that has it: SEQLAB_PYTHON, or the venv that
 * scripts/native/build-tfjs-node.sh makes (CI makes it); elsewhere the test says it skipped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { resolveTrainConfig } from '../../src/core/config';
import { exportKeras } from '../../src/core/kerasExport';
import { importKeras } from '../../src/core/kerasImport';
import { Predictor } from '../../src/core/predictor';
import { trainRun } from '../../src/core/run';
import { loadRun } from '../../src/core/store';
import type { CellType } from '../../src/protocol/types';
import { findKeras, makeTempDir, mobyDickChapter, useWasm } from './helpers';

/** Loads a .keras file in Keras and prints its layers and its predictions for the ids given. */
const PREDICT = `
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import keras, numpy as np
model = keras.saving.load_model(sys.argv[1])
ids = np.array(json.loads(sys.argv[2]), dtype="int32")
print(json.dumps({"layers": [layer.__class__.__name__ for layer in model.layers], "probabilities": model.predict(ids, verbose=0).reshape(-1).tolist()}))
`;

const keras = findKeras();

describe('export to Keras', { skip: 'skip' in keras ? keras.skip : false }, () => {
  let root: string;
  before(async () => {
    await useWasm();
    root = await makeTempDir('keras');
  });
  after(() => fsp.rm(root, { recursive: true, force: true }));

  const cases: { cell: CellType; layers: number; expected: string[] }[] = [
    { cell: 'rnn', layers: 1, expected: ['Embedding', 'Dropout', 'SimpleRNN', 'Dropout', 'Dense'] },
    { cell: 'gru', layers: 2, expected: ['Embedding', 'Dropout', 'GRU', 'Dropout', 'GRU', 'Dropout', 'Dense'] },
    { cell: 'lstm', layers: 1, expected: ['Embedding', 'Dropout', 'LSTM', 'Dropout', 'Dense'] },
  ];
  for (const { cell, layers, expected } of cases) {
    it(`${cell} × ${layers}: Keras loads model.keras and predicts the run's probabilities (max difference 1e-4)`, async () => {
      const config = resolveTrainConfig({ cell, layers, units: 24, embedding: 24, epochs: 1, backend: 'wasm' });
      const text = mobyDickChapter(1);
      const summary = await trainRun({ text, sources: [], name: 'Loomings', config, runsDir: root, runName: `${cell}-${layers}` });
      const run = await loadRun(summary.modelDir);
      const out = path.join(root, `${cell}-${layers}-keras`);
      const files = await exportKeras(run, out);
      assert.deepEqual(files.map((f) => path.basename(f)), ['model.keras', 'tokenizer.json', 'README.md']);

      // Real text: the ids of the next chapter's opening, in two windows.
      const ids = Array.from(run.tokenizer.encode(mobyDickChapter(2))).slice(0, 64);
      const windows = [ids.slice(0, 32), ids.slice(32, 64)];
      const seqlab = tf.tidy(() => (run.model.predict(tf.tensor2d(windows, undefined, 'int32')) as tf.Tensor).dataSync());
      run.model.dispose();
      const result = spawnSync((keras as { python: string }).python, ['-c', PREDICT, path.join(out, 'model.keras'), JSON.stringify(windows)], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      });
      assert.equal(result.status, 0, result.stderr.slice(-2000));
      const answer = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { layers: string[]; probabilities: number[] };
      assert.deepEqual(answer.layers, expected);
      assert.equal(answer.probabilities.length, seqlab.length);
      let worst = 0;
      for (let i = 0; i < seqlab.length; i++) worst = Math.max(worst, Math.abs(seqlab[i] - answer.probabilities[i]));
      assert.ok(worst <= 1e-4, `max abs difference ${worst}`);
    });
  }

  it('refuses to import a model SeqLab cannot run, naming the layer', async () => {
    const make = `
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import keras
def save(path, middle):
    keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(50, 8), *middle, keras.layers.Dense(50, activation="softmax")]).save(path)
save(sys.argv[1], [keras.layers.GRU(8, return_sequences=True)])
save(sys.argv[2], [keras.layers.Conv1D(8, 3, padding="causal")])
`;
    const [gru, conv] = ['gru-reset-after.keras', 'conv.keras'].map((name) => path.join(root, name));
    const made = spawnSync((keras as { python: string }).python, ['-c', make, gru, conv], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr.slice(-2000));
    const tokenizer = path.join(root, 'rnn-1-keras', 'tokenizer.json');
    await assert.rejects(importKeras(gru, tokenizer, root, 'wasm'), /GRU layer "gru" uses reset_after=True .*which SeqLab cannot run/);
    await assert.rejects(importKeras(conv, tokenizer, root, 'wasm'), /has a Conv1D layer \("conv1d"\), which SeqLab cannot run/);
  });

  it('refuses to overwrite a model.keras', async () => {
    const dir = (await fsp.readdir(root)).find((name) => name.endsWith('-keras'))!;
    const runDir = path.join(root, dir.replace(/-keras$/, ''));
    const run = await loadRun(runDir);
    await assert.rejects(exportKeras(run, path.join(root, dir)), /model\.keras" exists already; choose another folder/);
    run.model.dispose();
  });
});

describe('import from Keras', () => {
  let root: string;
  before(async () => {
    await useWasm();
    root = await makeTempDir('keras-import');
  });
  after(() => fsp.rm(root, { recursive: true, force: true }));

  it('turns an exported model.keras back into a run that predicts the same and generates', async () => {
    const config = resolveTrainConfig({ cell: 'gru', layers: 2, units: 16, embedding: 12, epochs: 1, backend: 'wasm' });
    const summary = await trainRun({ text: mobyDickChapter(1), sources: [], name: 'Loomings', config, runsDir: root, runName: 'original' });
    const original = await loadRun(summary.modelDir);
    const exported = path.join(root, 'exported');
    await exportKeras(original, exported);
    const dir = await importKeras(path.join(exported, 'model.keras'), path.join(exported, 'tokenizer.json'), path.join(root, 'runs'), 'wasm');
    const imported = await loadRun(dir);
    assert.equal(imported.record.status, 'done');
    assert.equal(imported.record.backendReason, 'imported from Keras');
    assert.deepEqual([imported.record.config.cell, imported.record.config.layers, imported.record.config.units, imported.record.config.embedding], ['gru', 2, 16, 12]);
    const ids = tf.tensor2d([Array.from(original.tokenizer.encode(mobyDickChapter(2))).slice(0, 40)], undefined, 'int32');
    const [a, b] = [original, imported].map((run) => tf.tidy(() => (run.model.predict(ids) as tf.Tensor).dataSync()));
    assert.deepEqual(b, a, 'the same probabilities, bit for bit');
    const generated = [original, imported].map((run) => {
      const predictor = new Predictor(run.model, run.tokenizer);
      const text = predictor.generate('Call me Ishmael.', { words: 8, temperature: 0 }).text;
      predictor.dispose();
      return text;
    });
    assert.equal(generated[1], generated[0], 'it continues a prompt as the original does');
    ids.dispose();
    original.model.dispose();
    imported.model.dispose();
  });

  it('refuses what is not a .keras file, or a tokenizer that does not fit, with a sentence', async () => {
    const notZip = path.join(root, 'notes.keras');
    await fsp.writeFile(notZip, 'plain text');
    await assert.rejects(importKeras(notZip, notZip, root, 'wasm'), /is not a \.keras file \(it is not a zip archive\)/);
    await assert.rejects(importKeras(path.join(root, 'exported', 'model.keras'), notZip, root, 'wasm'), /is not a SeqLab tokenizer .*name it with --tokenizer/);
    // The tokenizer of another run, with another vocabulary.
    const config = resolveTrainConfig({ cell: 'rnn', units: 8, embedding: 8, epochs: 1, maxVocab: 200, backend: 'wasm' });
    const other = await trainRun({ text: mobyDickChapter(1), sources: [], name: 'Loomings', config, runsDir: root, runName: 'other' });
    await assert.rejects(
      importKeras(path.join(root, 'exported', 'model.keras'), path.join(other.modelDir, 'tokenizer.json'), root, 'wasm'),
      /The tokenizer has 200 tokens but the model reads \d+, so they do not belong together/,
    );
  });
});
