/**
 * The language model: Embedding → SimpleRNN | GRU | LSTM (× layers, each followed by
 * Dropout) → Dense softmax, built from the standard TF.js layer classes so that a saved
 * run loads anywhere `tf.loadLayersModel` does (DESIGN.md §4).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from './errors';
import type { CellType } from '../protocol/types';

export interface ModelShape {
  cell: CellType;
  vocabSize: number;
  embedding: number;
  units: number;
  layers: number;
  dropout: number;
  /** Dropout on the word vectors, before the first recurrent layer (0 = none). */
  inputDropout?: number;
}

const LAYER_CLASS: Record<CellType, string> = { rnn: 'SimpleRNN', gru: 'GRU', lstm: 'LSTM' };

/** Builds an untrained model; `seed` makes its initial weights repeatable. */
export function buildModel(shape: ModelShape, seed: number): tf.LayersModel {
  const restore = silenceOrthogonalWarning();
  try {
    return buildLayers(shape, seed);
  } finally {
    restore();
  }
}

/**
 * TF.js warns that orthogonal initialisation of a matrix over 2000 numbers is slow; at
 * the sizes SeqLab builds it takes milliseconds, and the warning would only alarm people.
 * Returns what puts console.warn back.
 */
export function silenceOrthogonalWarning(): () => void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).startsWith('Orthogonal initializer')) warn(...args);
  };
  return () => (console.warn = warn);
}

function buildLayers(shape: ModelShape, seed: number): tf.LayersModel {
  let nextSeed = seed;
  const seeded = () => ({ seed: nextSeed++ });
  const model = tf.sequential({ name: `seqlab_${shape.cell}` });
  // A free sequence length lets the same model train on windows and predict on any prompt.
  model.add(
    tf.layers.embedding({
      inputDim: shape.vocabSize,
      outputDim: shape.embedding,
      batchInputShape: [null, null],
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, ...seeded() }),
      name: 'embedding',
    }),
  );
  if (shape.inputDropout) {
    model.add(tf.layers.dropout({ rate: shape.inputDropout, seed: nextSeed++, name: 'dropout_input' }));
  }
  for (let i = 0; i < shape.layers; i++) {
    const common = {
      units: shape.units,
      returnSequences: true,
      kernelInitializer: tf.initializers.glorotUniform(seeded()),
      recurrentInitializer: tf.initializers.orthogonal(seeded()),
      name: `${shape.cell}_${i + 1}`,
    };
    // Keras' defaults (sigmoid gates), not TF.js' hardSigmoid: the saved model then means
    // the same thing in Keras after conversion.
    if (shape.cell === 'rnn') model.add(tf.layers.simpleRNN({ ...common, activation: 'tanh' }));
    else if (shape.cell === 'gru') model.add(tf.layers.gru({ ...common, recurrentActivation: 'sigmoid' }));
    else model.add(tf.layers.lstm({ ...common, recurrentActivation: 'sigmoid', unitForgetBias: true }));
    if (shape.dropout > 0) {
      model.add(tf.layers.dropout({ rate: shape.dropout, seed: nextSeed++, name: `dropout_${i + 1}` }));
    }
  }
  model.add(
    tf.layers.dense({
      units: shape.vocabSize,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform(seeded()),
      name: 'output',
    }),
  );
  return model;
}

/**
 * Starts the output layer at the unigram distribution of the training tokens (add-one
 * smoothed): its bias holds the log frequencies. A fresh model then predicts as well as
 * word counts from the first step and spends training on what context adds, instead of
 * first climbing out of a uniform guess; small models on short texts otherwise stall on
 * that climb and can end worse than the unigram baseline.
 */
export function startAtUnigram(model: tf.LayersModel, trainTokens: Int32Array): void {
  const output = model.layers[model.layers.length - 1];
  const [kernel, bias] = output.getWeights();
  const counts = new Float32Array(bias.shape[0]).fill(1);
  for (const id of trainTokens) counts[id]++;
  const total = counts.reduce((sum, c) => sum + c, 0);
  const logFrequencies = tf.tensor1d(counts.map((c) => Math.log(c / total)));
  output.setWeights([kernel, logFrequencies]);
  logFrequencies.dispose();
}

/** Number of trainable numbers in the model. */
export function countParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a, b) => (a ?? 1) * (b ?? 1), 1)!, 0);
}

/** The weights of one recurrent layer in the Keras layout (gates side by side). */
export interface RecurrentWeights {
  kernel: tf.Tensor2D; // [input, gates × units]
  recurrentKernel: tf.Tensor2D; // [units, gates × units]
  bias: tf.Tensor1D; // [gates × units]
}

/** The parts of a model that the predictor and the training loop work with. */
export interface ModelParts {
  cell: CellType;
  units: number;
  vocabSize: number;
  embeddings: tf.Tensor2D; // [vocab, embedding]
  recurrent: RecurrentWeights[];
  /** Dropout rate after each recurrent layer (0 when there is none). */
  dropout: number[];
  /** Dropout rate on the word vectors (0 when there is none). */
  inputDropout: number;
  outputKernel: tf.Tensor2D; // [units, vocab]
  outputBias: tf.Tensor1D; // [vocab]
}

/**
 * Reads the structure of a model built by `buildModel` (or loaded from a run folder),
 * checking that it is one SeqLab can run. The tensors are the live variables: do not
 * dispose them.
 */
export function modelParts(model: tf.LayersModel): ModelParts {
  const layers = model.layers;
  const describe = (l: tf.layers.Layer) => l.getClassName();
  const first = layers[0];
  const last = layers[layers.length - 1];
  if (!first || describe(first) !== 'Embedding' || !last || describe(last) !== 'Dense') {
    throw new UserError('The model is not an Embedding → recurrent → Dense language model.');
  }
  const recurrentLayers = layers.slice(1, -1).filter((l) => describe(l) !== 'Dropout');
  const cellOf = Object.entries(LAYER_CLASS).find(([, name]) => name === describe(recurrentLayers[0] ?? first));
  if (!cellOf || recurrentLayers.some((l) => describe(l) !== LAYER_CLASS[cellOf[0] as CellType])) {
    throw new UserError('The model\'s middle layers are not all SimpleRNN, all GRU or all LSTM.');
  }
  const cell = cellOf[0] as CellType;
  const dropout = recurrentLayers.map((layer) => {
    const next = layers[layers.indexOf(layer) + 1];
    return next && describe(next) === 'Dropout' ? Number(next.getConfig().rate) : 0;
  });
  for (const layer of recurrentLayers) checkActivations(cell, layer.getConfig());
  const inputDropout = layers[1] && describe(layers[1]) === 'Dropout' ? Number(layers[1].getConfig().rate) : 0;
  const [embeddings] = first.getWeights() as [tf.Tensor2D];
  const [outputKernel, outputBias] = last.getWeights() as [tf.Tensor2D, tf.Tensor1D];
  return {
    cell,
    units: Number(recurrentLayers[0].getConfig().units),
    vocabSize: embeddings.shape[0],
    embeddings,
    recurrent: recurrentLayers.map((layer) => {
      const [kernel, recurrentKernel, bias] = layer.getWeights() as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      if (!bias) throw new UserError(`Layer ${layer.name} has no bias; SeqLab models always have one.`);
      return { kernel, recurrentKernel, bias };
    }),
    dropout,
    inputDropout,
    outputKernel,
    outputBias,
  };
}

/** The predictor implements the Keras activations that `buildModel` sets; refuse others. */
function checkActivations(cell: CellType, config: tf.serialization.ConfigDict): void {
  const expected = cell === 'rnn' ? { activation: 'tanh' } : { activation: 'tanh', recurrentActivation: 'sigmoid' };
  for (const [key, value] of Object.entries(expected)) {
    if (config[key] !== value) {
      throw new UserError(`The ${cell} layers use ${key} "${String(config[key])}"; SeqLab runs models with "${value}".`);
    }
  }
  if (config.resetAfter === true) throw new UserError('GRU layers with resetAfter are not supported.');
}
