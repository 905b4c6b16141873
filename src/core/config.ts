/**
 * Training defaults, one per line with the reason, and the validation every entry point
 * (CLI, language server) applies to what a person typed.
 */
import { UserError } from './errors';
import { BACKEND_NAMES, CELL_TYPES, type TrainConfig } from '../protocol/types';

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = {
  cell: 'lstm', //          the cell most people mean by "RNN language model"
  embedding: 128, //        = units, so input and output can share one matrix (tieWeights)
  units: 128, //            learns a novel's style in minutes on one core
  layers: 1, //             a second layer rarely pays off on one person's text
  dropout: 0.5, //          on ~100k words an LSTM overfits by the third epoch with 0.1
  inputDropout: 0.3, //     dropping word vectors too makes the model lean on more of its context
  weightDrop: 0, //         DropConnect on the recurrent kernels (Merity et al.)
  distill: 0.3, //          learn the trigram's view of each context too: 0.4–1.2% fewer held-out nats per character on 4 texts of 5
  subwordVectors: true, //  words spelt alike share part of their vectors: 0.3–1.2% fewer held-out nats per character on 5 texts
  tieWeights: true, //      one matrix for reading and predicting words: fewer weights, better held-out scores
  seqLen: 32, //            ~ two sentences of context per training window (the state carries on beyond)
  batch: 8, //              lanes of text: more updates per epoch than 32 learn faster on small texts
  epochs: 20, //            early stopping usually ends sooner
  learningRate: 3e-3, //    Adam converges fast at this rate with clipping on
  clipNorm: 5, //           recurrent nets occasionally explode; clipping keeps Adam stable
  lrDecay: 0.5, //          halve the step after an epoch that did not help, to settle into the minimum
  averageDecay: 0.999, //   validate and save the average of the last ~1000 steps' weights: ~5% lower perplexity
  valSplit: 0.1, //         the last 10% of the text measures generalisation
  patience: 3, //           epochs without a better validation loss before stopping
  seed: 42, //              same seed + same backend = same run
  maxVocab: 20000, //       every word of 120k words of a novel or of mail (10,000 left 8–9% of held-out words unknown): 2–4% fewer nats per character
  minCount: 1, //           every word of the training text is in the vocabulary (rareAsUnknown teaches <unk>)
  rareAsUnknown: 0.5, //    half the words seen once read as <unk> each epoch: the model learns both them and how often new words come
  lowercase: false, //      suggestions should come out with the person's capitalisation
  backend: 'auto', //       the faster of tensorflow (native) and wasm, measured per model (backendChoice.ts)
  softmaxSamples: 512, //   a sampled softmax while validation improves: 2.5× faster at 5k words, within ±0.3% (README)
  threads: 0, //            one, or all cores when that measures faster for the model (it often is not: see README)
};

/**
 * How SeqLab's samples of a model are written (after each epoch, after training, in
 * `compare`, the quality bench and Generate Text): the likeliest word each time, never the
 * same three tokens twice (sampling.ts). Drawn at random, even from the likeliest words
 * only (temperature 0.7, top-p 0.8), a small model's samples were word salad ("his other
 * the is a stranger"); its likeliest words read as phrases of the text, and the same
 * prompt then shows how runs differ, not how the dice fell.
 */
export const SAMPLE_SAMPLING = { temperature: 0, noRepeat: 3, seed: 1 } as const;

export type ModelSize = Pick<TrainConfig, 'embedding' | 'units' | 'layers'>;

/** The sizes Train Model offers; Medium is the default above. Embedding = units in each, so the weights can be tied. */
export const SIZE_PRESETS: readonly { label: string; size: ModelSize; why: string }[] = [
  { label: 'Tiny', size: { embedding: 32, units: 32, layers: 1 }, why: 'trains in seconds; for trying things out' },
  { label: 'Small', size: { embedding: 64, units: 64, layers: 1 }, why: 'a quick model of a short text' },
  {
    label: 'Medium',
    size: { embedding: DEFAULT_TRAIN_CONFIG.embedding, units: DEFAULT_TRAIN_CONFIG.units, layers: DEFAULT_TRAIN_CONFIG.layers },
    why: "SeqLab's default; learns a novel's style in minutes",
  },
  { label: 'Large', size: { embedding: 256, units: 256, layers: 2 }, why: 'for long texts (100k words and more) and some patience' },
];

type NumericKey = { [K in keyof TrainConfig]: TrainConfig[K] extends number ? K : never }[keyof TrainConfig];

/** Allowed range of each numeric setting and whether it must be a whole number. */
const NUMERIC_LIMITS: Record<NumericKey, { min: number; max: number; integer: boolean; exclusiveMin?: boolean }> = {
  embedding: { min: 1, max: 4096, integer: true },
  units: { min: 1, max: 4096, integer: true },
  layers: { min: 1, max: 8, integer: true },
  dropout: { min: 0, max: 0.9, integer: false },
  inputDropout: { min: 0, max: 0.9, integer: false },
  weightDrop: { min: 0, max: 0.9, integer: false },
  distill: { min: 0, max: 0.9, integer: false },
  lrDecay: { min: 0, max: 1, integer: false, exclusiveMin: true },
  averageDecay: { min: 0, max: 0.99999, integer: false },
  seqLen: { min: 2, max: 1024, integer: true },
  batch: { min: 1, max: 4096, integer: true },
  epochs: { min: 1, max: 10000, integer: true },
  learningRate: { min: 0, max: 1, integer: false, exclusiveMin: true },
  clipNorm: { min: 0, max: 1e6, integer: false, exclusiveMin: true },
  valSplit: { min: 0, max: 0.5, integer: false },
  patience: { min: 0, max: 10000, integer: true },
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
  maxVocab: { min: 2, max: 1_000_000, integer: true },
  threads: { min: 0, max: 64, integer: true },
  softmaxSamples: { min: 0, max: 1_000_000, integer: true },
  minCount: { min: 1, max: 1_000_000, integer: true },
  rareAsUnknown: { min: 0, max: 1, integer: false },
};

/**
 * Merges overrides into the defaults and checks every value, so a bad setting fails
 * before any work with a sentence that names it.
 */
export function resolveTrainConfig(
  overrides: Partial<TrainConfig> = {},
  nameOf: (key: keyof TrainConfig) => string = (key) => key,
): TrainConfig {
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_TRAIN_CONFIG)) throw new UserError(`Unknown training setting "${key}".`);
    (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (!(CELL_TYPES as readonly string[]).includes(config.cell)) {
    throw new UserError(`${nameOf('cell')} must be one of ${CELL_TYPES.join(', ')}, not "${config.cell}".`);
  }
  if (config.backend !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(config.backend)) {
    throw new UserError(`${nameOf('backend')} must be auto or one of ${BACKEND_NAMES.join(', ')}, not "${config.backend}".`);
  }
  for (const key of ['lowercase', 'tieWeights'] as const) {
    if (typeof config[key] !== 'boolean') throw new UserError(`${nameOf(key)} must be true or false.`);
  }
  if (config.tieWeights && config.embedding !== config.units) {
    // Asked for by name, it must be possible; as the default it applies where the sizes allow.
    if (overrides.tieWeights) {
      throw new UserError(`${nameOf('tieWeights')} needs ${nameOf('embedding')} equal to ${nameOf('units')} (${config.embedding} and ${config.units}).`);
    }
    config.tieWeights = false;
  }
  for (const [key, limits] of Object.entries(NUMERIC_LIMITS) as [NumericKey, (typeof NUMERIC_LIMITS)[NumericKey]][]) {
    checkNumber(nameOf(key), config[key], limits);
  }
  return config;
}

function checkNumber(
  name: string,
  value: unknown,
  { min, max, integer, exclusiveMin }: { min: number; max: number; integer: boolean; exclusiveMin?: boolean },
): void {
  const kind = integer ? 'a whole number' : 'a number';
  const lower = exclusiveMin ? `above ${min}` : `from ${min}`;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (exclusiveMin ? value > min : value >= min) &&
    value <= max;
  if (!ok) throw new UserError(`${name} must be ${kind} ${lower} to ${max}, not ${JSON.stringify(value)}.`);
}
