/**
 * A run as a Keras 3 model: `model.keras` (the zip Keras saves: config.json, metadata.json
 * and the weights in model.weights.h5) that `keras.saving.load_model` opens with no custom
 * objects and that predicts what the run predicts, plus the tokenizer and a README saying
 * how to use them from Python.
 *
 * The model is the run's own stack of standard layers (Embedding, Dropout, SimpleRNN / GRU
 * with reset_after=False / LSTM, Dense with softmax), whose weights TF.js already keeps in
 * Keras' layout and gate order. The HDF5 file is written with h5wasm (HDF5 compiled to
 * WebAssembly), not by hand.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import { strToU8, zipSync } from 'fflate';
import { UserError } from './errors';
import { RUN_FILES, type LoadedRun } from './store';

/** The oldest Keras 3 release whose format this writes; Keras reads it as a version stamp only. */
const KERAS_VERSION = '3.0.0';

/** A layer as Keras' config.json names it, with its weights in Keras' order. */
interface KerasLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
  /** The layer's input shape, for its build_config; none for layers without weights. */
  inputShape?: (number | null)[];
  weights: tf.Tensor[];
  /** Recurrent layers keep their weights in a `cell` sub-layer. */
  cell?: boolean;
}

/**
 * The recurrent layers, with the name Keras gives each kind: it finds a layer's weights in
 * the file by that snake-case name ("simple_rnn", then "simple_rnn_1"), not by the name
 * in its config.
 */
export const RECURRENT: Record<string, { className: string; path: string; config: Record<string, unknown> }> = {
  SimpleRNN: { className: 'SimpleRNN', path: 'simple_rnn', config: { activation: 'tanh' } },
  GRU: { className: 'GRU', path: 'gru', config: { activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: false } },
  LSTM: { className: 'LSTM', path: 'lstm', config: { activation: 'tanh', recurrent_activation: 'sigmoid', unit_forget_bias: true } },
};

/** The run's layers in Keras terms, refusing a layer Keras' standard set would not mean the same by. */
export function kerasLayers(model: tf.LayersModel): KerasLayer[] {
  const nameFor = layerPaths();
  return model.layers.map((layer) => {
    const className = layer.getClassName();
    const config = layer.getConfig() as Record<string, unknown>;
    const weights = layer.getWeights();
    const inputShape = (layer.inputSpec?.[0]?.shape ?? (layer.batchInputShape as number[] | undefined)) as (number | null)[] | undefined;
    switch (className) {
      case 'Embedding':
        return { className, name: nameFor('embedding'), config: { input_dim: config.inputDim, output_dim: config.outputDim }, inputShape: [null, null], weights };
      case 'Dropout':
        return { className, name: nameFor('dropout'), config: { rate: config.rate }, weights: [] };
      case 'Dense':
        if (config.activation !== 'softmax') throw new UserError(`Keras export expects a softmax output layer, not "${String(config.activation)}".`);
        return { className, name: nameFor('dense'), config: { units: config.units, activation: 'softmax' }, inputShape: [null, null, weights[0].shape[0]], weights };
      default: {
        const recurrent = RECURRENT[className];
        if (!recurrent) throw new UserError(`The model has a ${className} layer, which Keras export does not handle.`);
        return {
          className: recurrent.className,
          name: nameFor(recurrent.path),
          config: { units: config.units, return_sequences: true, use_bias: true, ...recurrent.config },
          inputShape: [null, null, inputShape?.[2] ?? weights[0].shape[0]],
          weights,
          cell: true,
        };
      }
    }
  });
}

/**
 * Names as Keras 3 gives the layers of one model, and finds their weights by in
 * model.weights.h5: the snake case of the class, then _1, _2 for the next of a kind.
 */
export function layerPaths(): (base: string) => string {
  const counts = new Map<string, number>();
  return (base) => {
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  };
}

/** config.json of the .keras zip: a Sequential model of the layers, built for [batch, time] token ids. */
export function kerasConfig(layers: KerasLayer[]): unknown {
  const layer = (l: KerasLayer) => ({
    module: 'keras.layers',
    class_name: l.className,
    config: { name: l.name, trainable: true, dtype: 'float32', ...l.config },
    registered_name: null,
    ...(l.inputShape ? { build_config: { input_shape: l.inputShape } } : {}),
  });
  const input = {
    module: 'keras.layers',
    class_name: 'InputLayer',
    config: { batch_shape: [null, null], dtype: 'int32', sparse: false, name: 'input_layer' },
    registered_name: null,
  };
  return {
    module: 'keras',
    class_name: 'Sequential',
    config: { name: 'sequential', trainable: true, dtype: 'float32', layers: [input, ...layers.map(layer)] },
    registered_name: null,
    build_config: { input_shape: [null, null] },
    compile_config: null,
  };
}

/**
 * Writes `model.keras`, `tokenizer.json` and `README.md` into `outDir` (created; refused
 * when it holds a model.keras already). Returns the files written.
 */
export async function exportKeras(run: LoadedRun, outDir: string): Promise<string[]> {
  const layers = kerasLayers(run.model);
  await fs.mkdir(outDir, { recursive: true });
  const target = nodePath.join(outDir, 'model.keras');
  if (await fs.stat(target).then(() => true, () => false)) throw new UserError(`"${target}" exists already; choose another folder.`);
  await fs.writeFile(target, await kerasArchive(layers));
  await fs.copyFile(nodePath.join(run.dir, RUN_FILES.tokenizer), nodePath.join(outDir, 'tokenizer.json'));
  await fs.writeFile(nodePath.join(outDir, 'README.md'), exportReadme(run, layers));
  return [target, nodePath.join(outDir, 'tokenizer.json'), nodePath.join(outDir, 'README.md')];
}

/** The bytes of a .keras file holding `layers`: Keras' zip of its metadata, config and HDF5 weights. */
export async function kerasArchive(layers: KerasLayer[]): Promise<Uint8Array> {
  return zipSync({
    'metadata.json': strToU8(JSON.stringify({ keras_version: KERAS_VERSION, date_saved: new Date().toISOString() })),
    'config.json': strToU8(JSON.stringify(kerasConfig(layers))),
    'model.weights.h5': await weightsFile(layers),
  });
}

/** model.weights.h5 as Keras 3 lays it out: layers/<name>/vars/<i> (a recurrent layer's under cell/). */
async function weightsFile(layers: KerasLayer[]): Promise<Uint8Array> {
  const h5 = await loadH5wasm();
  const scratch = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'seqlab-keras-'));
  const path = nodePath.join(scratch, 'model.weights.h5');
  try {
    const file = new h5.File(path, 'w');
    try {
      const vars = (group: H5Group, name: string, tensors: tf.Tensor[]) => {
        const v = group.create_group('vars');
        v.create_attribute('name', name);
        tensors.forEach((t, i) => v.create_dataset({ name: String(i), data: t.dataSync() as Float32Array, shape: t.shape, dtype: '<f' }));
      };
      const root = file.create_group('layers');
      for (const layer of layers) {
        const group = root.create_group(layer.name);
        if (layer.cell) {
          vars(group.create_group('cell'), `${layer.name}_cell`, layer.weights);
          vars(group, layer.name, []);
        } else {
          vars(group, layer.name, layer.weights);
        }
      }
      vars(file, 'sequential', []);
    } finally {
      file.close();
    }
    return new Uint8Array(await fs.readFile(path));
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

interface H5Group {
  create_group(name: string): H5Group;
  create_attribute(name: string, value: string): void;
  create_dataset(options: { name: string; data: Float32Array; shape: number[]; dtype: string }): void;
  get(path: string): { value: unknown; shape: number[] } | H5Group | null;
}
interface H5File extends H5Group {
  close(): void;
}
export interface H5wasm {
  ready: Promise<unknown>;
  File: new (path: string, mode: 'w' | 'r') => H5File;
}

/**
 * h5wasm is an ES module: loaded with import() from the bundle's folder (the build copies
 * it there for the extension) or from node_modules.
 */
export async function loadH5wasm(): Promise<H5wasm> {
  const bundled = nodePath.join(__dirname, 'h5wasm', 'hdf5_hl.js');
  const entry = (await fs.stat(bundled).then(() => true, () => false)) ? pathToFileURL(bundled).href : 'h5wasm/node';
  const module = (await import(entry)) as { default: H5wasm };
  await module.default.ready;
  return module.default;
}

function exportReadme(run: LoadedRun, layers: KerasLayer[]): string {
  const { config } = run.record;
  return `# ${config.cell.toUpperCase()} language model from SeqLab

Exported from the SeqLab run \`${run.record.id}\`: ${layers.map((l) => l.className).join(' → ')},
vocabulary ${run.tokenizer.vocabSize.toLocaleString('en')} tokens.

- \`model.keras\`: the model for Keras 3. Input: token ids, shape [batch, time], int32.
  Output: for every position, the probabilities of the next token, shape [batch, time, vocabulary].
- \`tokenizer.json\`: SeqLab's tokenizer. \`vocab\` lists the tokens by id; id 0 is \`<unk>\`
  (any word not in the list) and "\\n" is a line break.

\`\`\`python
import json, keras, numpy as np

model = keras.saving.load_model("model.keras")
vocab = json.load(open("tokenizer.json"))["vocab"]
ids = {token: i for i, token in enumerate(vocab)}
tokens = "Call me".split()  # SeqLab splits words and punctuation the same way for plain prose
x = np.array([[ids.get(t, 0) for t in tokens]], dtype="int32")
probabilities = model.predict(x)[0, -1]
print([vocab[i] for i in np.argsort(probabilities)[::-1][:5]])
\`\`\`

The model has no optimizer attached; compile it to train it further, e.g.
\`model.compile(optimizer=keras.optimizers.Adam(${config.learningRate}, global_clipnorm=${config.clipNorm}), loss="sparse_categorical_crossentropy")\`.
`;
}
