/**
 * The Keras experiment that `export --keras-script` writes, run for real: with the default
 * strategy, with MultiWorkerMirroredStrategy over two local worker processes and as a Ray
 * Train job on a local Ray cluster of two workers, all on loopback and started and stopped
 * here. Without dropout and from the run's initial weights the training is deterministic,
 * so every way must give the figures SeqLab's own training gave; and SeqLab must take each result back as a run that suggests, with the word
 * counts of its text. Needs a Python with
 * Keras (and Ray for the Ray case): see findKeras; elsewhere the tests say they skipped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import { resolveTrainConfig } from '../../src/core/config';
import { importKerasOutput } from '../../src/core/kerasImport';
import { exportKerasScript } from '../../src/core/kerasScript';
import { Predictor } from '../../src/core/predictor';
import { trainRun } from '../../src/core/run';
import { loadRun, NGRAMS_FILE, readRunRecord, SPELLING_FILE, SUGGESTION_FILE } from '../../src/core/store';
import type { EpochMetrics } from '../../src/protocol/types';
import { findKeras, makeTempDir, mobyDickChapter, useWasm } from './helpers';

const keras = findKeras();
const python = 'python' in keras ? keras.python : '';
const hasRay = python !== '' && spawnSync(python, ['-c', 'import ray.train'], { encoding: 'utf8' }).status === 0;
const TEXT = mobyDickChapter(1) + '\n\n' + mobyDickChapter(2);
/** What Keras can repeat exactly: no dropout, and none of the parts of SeqLab's training the experiment leaves out. */
const PLAIN = { dropout: 0, inputDropout: 0, distill: 0, subwordVectors: false, rareAsUnknown: 0, backend: 'wasm' } as const;

/** Runs the project's script to the end; rejects with its last output when it fails. */
function runScript(project: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(project, 'keras_experiment.py'), ...args], { cwd: project, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`keras_experiment.py ${args.join(' ')} exited ${code}:\n${output.slice(-3000)}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function metrics(out: string): Promise<EpochMetrics[]> {
  return (await fsp.readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as EpochMetrics);
}

describe('the Keras experiment of a run', { skip: 'skip' in keras ? keras.skip : false }, () => {
  let root: string;
  let project: string;
  let single: EpochMetrics[];
  let original: EpochMetrics[];
  before(async () => {
    await useWasm();
    root = await makeTempDir('keras-script');
    // No dropout: then nothing in training is random but the (seeded) start and offsets. No
    // distillation, subword vectors or rare words read as unknown, which the experiment
    // leaves out (its README says so). The full softmax; the next test samples.
    const config = resolveTrainConfig({ cell: 'lstm', units: 24, embedding: 24, epochs: 1, softmaxSamples: 0, ...PLAIN });
    const textFile = path.join(root, 'loomings.txt');
    await fsp.writeFile(textFile, TEXT);
    const summary = await trainRun({ text: TEXT, sources: [textFile], name: 'Loomings', config, runsDir: root, runName: 'original' });
    const run = await loadRun(summary.modelDir);
    original = run.metrics;
    project = path.join(root, 'project');
    try {
      await exportKerasScript(run, TEXT, project);
    } finally {
      run.model.dispose();
    }
  });
  after(() => fsp.rm(root, { recursive: true, force: true }));

  it('repeats the run in Keras on one device from its initial weights, and comes back as a run with its curve that suggests', async () => {
    const out = path.join(root, 'single');
    await runScript(project, ['--initial-weights', '--out', out]);
    single = await metrics(out);
    assert.equal(single.length, 1);
    // The same start, batches, optimizer and averaging: the same training, up to float rounding.
    assert.ok(Math.abs(single[0].valLoss! - original[0].valLoss!) < 1e-3, `Keras ${single[0].valLoss} against SeqLab ${original[0].valLoss}`);
    assert.ok(Math.abs(single[0].loss - original[0].loss) < 1e-3, `training loss: Keras ${single[0].loss} against SeqLab ${original[0].loss}`);
    const dir = await importKerasOutput(out, path.join(root, 'runs'), 'wasm');
    const record = await readRunRecord(dir);
    assert.equal(record.reproduces, 'original');
    assert.equal(record.config.units, 24);
    // Its text is still there, so it has the word counts that `eval` and the suggestions use.
    for (const file of [NGRAMS_FILE, SPELLING_FILE, SUGGESTION_FILE]) assert.ok(existsSync(path.join(dir, file)), file);
    const imported = await loadRun(dir);
    const predictor = new Predictor(imported.model, imported.tokenizer);
    try {
      assert.deepEqual(imported.metrics.map((m) => m.valLoss), [single[0].valLoss]);
      assert.ok(predictor.generate('Call me', { words: 3, temperature: 0, seed: 1 }).text.trim().length > 0, 'it suggests');
    } finally {
      predictor.dispose();
      imported.model.dispose();
    }
  });

  it('repeats a run that trained on a sampled softmax, drawing the same words, and switches to the full softmax when the run did', async () => {
    const config = resolveTrainConfig({ cell: 'gru', units: 16, embedding: 16, epochs: 2, softmaxSamples: 60, ...PLAIN });
    const textFile = path.join(root, 'loomings.txt');
    const summary = await trainRun({ text: TEXT, sources: [textFile], name: 'Loomings', config, runsDir: root, runName: 'sampled' });
    assert.ok(summary.vocabSize > 120, 'the vocabulary is big enough to sample from');
    const run = await loadRun(summary.modelDir);
    const sampledProject = path.join(root, 'sampled-project');
    try {
      await exportKerasScript(run, TEXT, sampledProject);
    } finally {
      run.model.dispose();
    }
    const experiment = JSON.parse(await fsp.readFile(path.join(sampledProject, 'experiment.json'), 'utf8')) as { sampledSoftmax?: { samples: number; alias: number[] } };
    assert.equal(experiment.sampledSoftmax?.samples, 60);
    assert.equal(experiment.sampledSoftmax?.alias.length, summary.vocabSize);
    const out = path.join(root, 'sampled-out');
    await runScript(sampledProject, ['--initial-weights', '--out', out]);
    const keras = await metrics(out);
    // Epoch 1 on the sampled softmax, epoch 2 (the last) on the full one: both as the run trained
    // them (they agree to ~1e-7; other draws of the same number of words part by ~1e-3).
    run.metrics.forEach((m, i) => assert.ok(Math.abs(keras[i].valLoss! - m.valLoss!) < 1e-5, `epoch ${i + 1}: Keras ${keras[i].valLoss} against SeqLab ${m.valLoss}`));
  });

  it('gives the same training with MultiWorkerMirroredStrategy over two local workers', async () => {
    const out = path.join(root, 'multi-worker');
    const workers = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    await Promise.all(
      workers.map((_, index) =>
        runScript(project, ['--initial-weights', '--strategy', 'multi-worker', '--out', out], { TF_CONFIG: JSON.stringify({ cluster: { worker: workers }, task: { type: 'worker', index } }) }),
      ),
    );
    const [epoch] = await metrics(out);
    assert.ok(single, 'the single-device run comes first');
    assert.ok(Math.abs(epoch.valLoss! - single[0].valLoss!) < 1e-3, `${epoch.valLoss} against ${single[0].valLoss} on one device`);
  });

  it('gives the same training as a Ray Train job of two workers on a local cluster', { skip: hasRay ? false : 'no Ray Train in that Python (pip install "ray[train]")' }, async () => {
    const out = path.join(root, 'ray');
    const ray = path.join(path.dirname(python), 'ray');
    const port = await freePort();
    const started = spawnSync(ray, ['start', '--head', '--node-ip-address=127.0.0.1', `--port=${port}`, '--num-cpus=2', '--include-dashboard=false', '--disable-usage-stats'], { encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    try {
      await runScript(project, ['--initial-weights', '--ray', '2', '--ray-address', `127.0.0.1:${port}`, '--out', out]);
    } finally {
      spawnSync(ray, ['stop', '--force'], { encoding: 'utf8' });
    }
    const [epoch] = await metrics(out);
    assert.ok(Math.abs(epoch.valLoss! - single[0].valLoss!) < 1e-3, `${epoch.valLoss} against ${single[0].valLoss} on one device`);
    const dir = await importKerasOutput(out, path.join(root, 'runs'), 'wasm');
    assert.equal((await readRunRecord(dir)).reproduces, 'original');
  });
});
