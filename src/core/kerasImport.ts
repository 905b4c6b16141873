/**
 * A Keras 3 model (`.keras`) with SeqLab's tokenizer JSON as a SeqLab run: listed with the
 * others, comparable, usable for suggestions (by the network alone: an imported run has no
 * word counts of its text). The model must be one SeqLab runs: Embedding, Dropout,
 * SimpleRNN / GRU (reset_after=False) / LSTM with tanh and sigmoid, every step's output
 * (return_sequences), and a softmax Dense over the tokenizer's vocabulary. Anything else
 * gets one sentence naming the layer. The output folder of a Keras experiment exported
 * by SeqLab (kerasScript.ts) comes back with its settings and per-epoch curves.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { unzipSync, strFromU8 } from 'fflate';
import { resolveTrainConfig } from './config';
import { UserError } from './errors';
import { layerPaths, loadH5wasm, RECURRENT } from './kerasExport';
import type { KerasExperiment } from './kerasScript';
import { buildModel, countParams, type ModelShape } from './model';
import { addTextModels, prepareText, readTrainingText } from './run';
import { loadRun, readRunRecord, RunWriter, type RunRecord } from './store';
import { Tokenizer } from './tokenizer';
import { SEQLAB_VERSION } from './version';
import type { BackendName, CellType, EpochMetrics } from '../protocol/types';

/** What SeqLab reads of a Keras layer's config. */
interface LayerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

/** The model a .keras file describes, in SeqLab's terms, with where each layer's weights are. */
interface ImportedShape extends Required<ModelShape> {
  /** Paths of the weight groups in model.weights.h5, in the order of the SeqLab model's weighted layers. */
  weightPaths: string[];
}

const CELL_OF: Record<string, CellType> = { SimpleRNN: 'rnn', GRU: 'gru', LSTM: 'lstm' };

/** Reads the layer stack of config.json, refusing what SeqLab cannot run with a sentence. */
export function importedShape(config: unknown): ImportedShape {
  const model = config as { class_name?: string; config?: { layers?: LayerConfig[] } };
  if (model?.class_name !== 'Sequential' || !Array.isArray(model.config?.layers)) {
    throw new UserError('The .keras file does not hold a Sequential model, which is what SeqLab can import.');
  }
  const nameFor = layerPaths();
  const shape: Partial<ImportedShape> & { weightPaths: string[]; layers: number } = { weightPaths: [], layers: 0, dropout: 0, inputDropout: 0 };
  const refuse = (layer: LayerConfig, why: string) => new UserError(`The model's ${layer.class_name} layer "${String(layer.config?.name)}" ${why}, which SeqLab cannot run.`);
  for (const layer of model.config.layers) {
    const c = layer.config ?? {};
    switch (layer.class_name) {
      case 'InputLayer':
        break;
      case 'Embedding':
        if (shape.vocabSize !== undefined) throw refuse(layer, 'is a second embedding');
        shape.vocabSize = Number(c.input_dim);
        shape.embedding = Number(c.output_dim);
        shape.weightPaths.push(`layers/${nameFor('embedding')}/vars`);
        break;
      case 'Dropout':
        nameFor('dropout');
        if (shape.layers === 0) shape.inputDropout = Number(c.rate);
        else shape.dropout = Number(c.rate);
        break;
      case 'Dense':
        if (c.activation !== 'softmax') throw refuse(layer, `ends in "${String(c.activation)}" instead of softmax probabilities`);
        if (Number(c.units) !== shape.vocabSize) throw refuse(layer, `predicts ${String(c.units)} tokens but the embedding reads ${shape.vocabSize}`);
        shape.weightPaths.push(`layers/${nameFor('dense')}/vars`);
        break;
      default: {
        const cell = CELL_OF[layer.class_name];
        if (!cell) throw new UserError(`The model has a ${layer.class_name} layer ("${String(c.name)}"), which SeqLab cannot run.`);
        if (shape.cell && shape.cell !== cell) throw refuse(layer, 'mixes cell types');
        if (c.return_sequences !== true) throw refuse(layer, 'returns only its last step');
        if (c.activation !== undefined && c.activation !== 'tanh') throw refuse(layer, `uses the activation "${String(c.activation)}"`);
        if (cell !== 'rnn' && c.recurrent_activation !== undefined && c.recurrent_activation !== 'sigmoid') {
          throw refuse(layer, `uses the gate activation "${String(c.recurrent_activation)}"`);
        }
        if (cell === 'gru' && c.reset_after !== false) throw refuse(layer, 'uses reset_after=True (Keras\' default GRU)');
        if (shape.units !== undefined && shape.units !== Number(c.units)) throw refuse(layer, 'has a different number of units from the layer before');
        shape.cell = cell;
        shape.units = Number(c.units);
        shape.layers++;
        shape.weightPaths.push(`layers/${nameFor(RECURRENT[layer.class_name].path)}/cell/vars`);
      }
    }
  }
  if (shape.vocabSize === undefined || !shape.cell || shape.weightPaths.length !== shape.layers + 2) {
    throw new UserError('The model is not an Embedding → recurrent layers → softmax Dense language model.');
  }
  return shape as ImportedShape;
}

/** What a Keras experiment's output folder (kerasScript.ts) adds to its model: the run's settings and curves. */
export interface TrainedElsewhere {
  experiment: KerasExperiment;
  history: EpochMetrics[];
}

/**
 * Imports `kerasFile` with the tokenizer in `tokenizerFile` as a new run folder under
 * `runsDir`; returns the folder. With `trained`, the run keeps the experiment's settings,
 * text and per-epoch curves, and names the run it reproduces.
 */
export async function importKeras(kerasFile: string, tokenizerFile: string, runsDir: string, backend: BackendName, trained?: TrainedElsewhere): Promise<string> {
  const archive = await readArchive(kerasFile);
  const shape = importedShape(JSON.parse(strFromU8(archive['config.json'])));
  const tokenizer = await readTokenizerFile(tokenizerFile);
  if (tokenizer.vocabSize !== shape.vocabSize) {
    throw new UserError(`The tokenizer has ${tokenizer.vocabSize} tokens but the model reads ${shape.vocabSize}, so they do not belong together.`);
  }
  const layers = { cell: shape.cell, embedding: shape.embedding, units: shape.units, layers: shape.layers, dropout: shape.dropout, inputDropout: shape.inputDropout };
  const config = resolveTrainConfig({ ...trained?.experiment.config, ...layers });
  const model = buildModel({ ...config, vocabSize: shape.vocabSize }, config.seed);
  try {
    setWeights(model, await readWeights(archive['model.weights.h5'], shape.weightPaths));
    const name = trained ? `${trained.experiment.run}-keras` : `${nodePath.basename(kerasFile, '.keras')}-${shape.cell}-imported`;
    const writer = await RunWriter.createNew(runsDir, name);
    const now = new Date().toISOString();
    const best = trained?.history.reduce<EpochMetrics | undefined>((b, m) => (m.valLoss !== null && (!b || m.valLoss < b.valLoss!) ? m : b), undefined);
    const record: RunRecord = {
      format: 'seqlab-run',
      version: 1,
      id: nodePath.basename(writer.dir),
      status: 'done',
      config,
      // Trained elsewhere: the text is unknown here (unless the experiment says), and so are its counts.
      corpus: trained?.experiment.corpus ?? { sha256: '', tokens: 0, sources: [nodePath.resolve(kerasFile)] },
      backend,
      backendReason: trained ? `trained in Keras by keras_experiment.py, reproducing ${trained.experiment.run}` : 'imported from Keras',
      versions: { seqlab: SEQLAB_VERSION, tfjs: tf.version.tfjs },
      vocabSize: shape.vocabSize,
      params: countParams(model),
      createdAt: now,
      finishedAt: now,
      ...(best ? { bestEpoch: best.epoch } : {}),
      ...(trained ? { reproduces: trained.experiment.run } : {}),
    };
    await writer.writeTokenizer(tokenizer.toJSON());
    await writer.saveModel(model);
    if (trained) await writer.rewriteMetrics(trained.history);
    await writer.writeRecord(record);
    return writer.dir;
  } finally {
    model.dispose();
  }
}

/**
 * Imports the output folder of a Keras experiment (model.keras, tokenizer.json,
 * experiment.json, metrics.jsonl) as a run with its settings and curves.
 */
export async function importKerasOutput(folder: string, runsDir: string, backend: BackendName): Promise<string> {
  const read = async (name: string) => {
    try {
      return await fs.readFile(nodePath.join(folder, name), 'utf8');
    } catch {
      throw new UserError(`"${folder}" is not the output of a Keras experiment from SeqLab: it has no ${name}.`);
    }
  };
  const experiment = JSON.parse(await read('experiment.json')) as KerasExperiment;
  if (experiment.format !== 'seqlab-keras-experiment') throw new UserError(`"${nodePath.join(folder, 'experiment.json')}" is not a SeqLab Keras experiment.`);
  const history = (await read('metrics.jsonl'))
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as EpochMetrics);
  const dir = await importKeras(nodePath.join(folder, 'model.keras'), nodePath.join(folder, 'tokenizer.json'), runsDir, backend, { experiment, history });
  await addCountsWhereTextIsKnown(dir, experiment);
  return dir;
}

/**
 * When the experiment's text is still where the original run read it (and unchanged), the
 * imported run gets its word counts and suggestion model too; otherwise it suggests with
 * the network alone, as any imported model does.
 */
async function addCountsWhereTextIsKnown(dir: string, experiment: KerasExperiment): Promise<void> {
  let text: string;
  try {
    text = await readTrainingText(await readRunRecord(dir), 'the counts are left out');
  } catch {
    return;
  }
  const run = await loadRun(dir);
  try {
    const prepared = prepareText(text, experiment.config, experiment.run);
    // The same settings fit the same vocabulary; anything else would count other words.
    if (prepared.tokenizer.vocab.join('\n') !== run.tokenizer.vocab.join('\n')) return;
    await addTextModels(dir, run.model, prepared, experiment.config);
  } finally {
    run.model.dispose();
  }
}

async function readArchive(kerasFile: string): Promise<Record<string, Uint8Array>> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(kerasFile);
  } catch (error) {
    throw new UserError(`"${kerasFile}" could not be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
  let archive: Record<string, Uint8Array>;
  try {
    archive = unzipSync(bytes);
  } catch {
    throw new UserError(`"${kerasFile}" is not a .keras file (it is not a zip archive).`);
  }
  for (const name of ['config.json', 'model.weights.h5']) {
    if (!archive[name]) throw new UserError(`"${kerasFile}" is not a Keras 3 model file: it has no ${name}.`);
  }
  return archive;
}

async function readTokenizerFile(file: string): Promise<Tokenizer> {
  try {
    return Tokenizer.fromJSON(JSON.parse(await fs.readFile(file, 'utf8')));
  } catch (error) {
    throw new UserError(`"${file}" is not a SeqLab tokenizer (${(error as Error).message.replace(/\.$/, '')}); export one with the model, or name it with --tokenizer.`);
  }
}

/** Every weight group's datasets 0, 1, … in order, read with h5wasm. */
async function readWeights(h5bytes: Uint8Array, groups: string[]): Promise<{ values: Float32Array; shape: number[] }[][]> {
  const h5 = await loadH5wasm();
  const scratch = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'seqlab-keras-'));
  const path = nodePath.join(scratch, 'model.weights.h5');
  await fs.writeFile(path, h5bytes);
  const file = new h5.File(path, 'r');
  try {
    return groups.map((group) => {
      const weights: { values: Float32Array; shape: number[] }[] = [];
      for (let i = 0; ; i++) {
        const dataset = file.get(`${group}/${i}`) as { value: unknown; shape: number[] } | null;
        if (!dataset) break;
        weights.push({ values: Float32Array.from(dataset.value as ArrayLike<number>), shape: dataset.shape });
      }
      if (weights.length === 0) throw new UserError(`The model's weights file has no weights at ${group}.`);
      return weights;
    });
  } finally {
    file.close();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** Puts the read weights into the SeqLab model's weighted layers, checking every shape. */
function setWeights(model: tf.LayersModel, groups: { values: Float32Array; shape: number[] }[][]): void {
  const weighted = model.layers.filter((layer) => layer.getWeights().length > 0);
  weighted.forEach((layer, i) => {
    const expected = layer.getWeights();
    const given = groups[i];
    if (given.length !== expected.length || given.some((w, j) => w.shape.join('×') !== expected[j].shape.join('×'))) {
      throw new UserError(
        `The weights of the model's ${layer.getClassName()} layer have shapes ${given.map((w) => w.shape.join('×')).join(', ')} where ${expected.map((w) => w.shape.join('×')).join(', ')} are needed.`,
      );
    }
    const tensors = given.map((w) => tf.tensor(w.values, w.shape));
    layer.setWeights(tensors);
    tf.dispose(tensors);
  });
}

