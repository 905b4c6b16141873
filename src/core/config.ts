/**
 * Training defaults, one per line with the reason, and the validation every entry point
 * (CLI, language server) applies to what a person typed.
 */
import { UserError } from './errors';
import { BACKEND_NAMES, CELL_TYPES, type TrainConfig } from '../protocol/types';

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = {
  cell: 'lstm', //          the cell most people mean by "RNN language model"
  embedding: 64, //         enough for a personal vocabulary of a few thousand words
  units: 128, //            learns a novel's style in minutes on two cores
  layers: 1, //             a second layer rarely pays off on one person's text
  dropout: 0.1, //          small corpora overfit within a few epochs without it
  inputDropout: 0, //
  tieWeights: false, //
  seqLen: 32, //            ~ two sentences of context per training window
  batch: 32, //             large enough for efficient matmuls, small enough for many updates
  epochs: 20, //            early stopping usually ends sooner
  learningRate: 3e-3, //    Adam converges fast at this rate with clipping on
  clipNorm: 5, //           recurrent nets occasionally explode; clipping keeps Adam stable
  lrDecay: 1, //
  valSplit: 0.1, //         the last 10% of the text measures generalisation
  patience: 3, //           epochs without a better validation loss before stopping
  seed: 42, //              same seed + same backend = same run
  maxVocab: 10000, //       covers ~95% of running words of a typical English novel
  minCount: 2, //           words seen once become <unk>, so the model learns how often new words come
  lowercase: false, //      suggestions should come out with the person's capitalisation
  backend: 'auto', //       tensorflow (native) → wasm → cpu
};

type NumericKey = { [K in keyof TrainConfig]: TrainConfig[K] extends number ? K : never }[keyof TrainConfig];

/** Allowed range of each numeric setting and whether it must be a whole number. */
const NUMERIC_LIMITS: Record<NumericKey, { min: number; max: number; integer: boolean; exclusiveMin?: boolean }> = {
  embedding: { min: 1, max: 4096, integer: true },
  units: { min: 1, max: 4096, integer: true },
  layers: { min: 1, max: 8, integer: true },
  dropout: { min: 0, max: 0.9, integer: false },
  inputDropout: { min: 0, max: 0.9, integer: false },
  lrDecay: { min: 0, max: 1, integer: false, exclusiveMin: true },
  seqLen: { min: 2, max: 1024, integer: true },
  batch: { min: 1, max: 4096, integer: true },
  epochs: { min: 1, max: 10000, integer: true },
  learningRate: { min: 0, max: 1, integer: false, exclusiveMin: true },
  clipNorm: { min: 0, max: 1e6, integer: false, exclusiveMin: true },
  valSplit: { min: 0, max: 0.5, integer: false },
  patience: { min: 0, max: 10000, integer: true },
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
  maxVocab: { min: 2, max: 1_000_000, integer: true },
  minCount: { min: 1, max: 1_000_000, integer: true },
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
    throw new UserError(`${nameOf('tieWeights')} needs ${nameOf('embedding')} equal to ${nameOf('units')} (${config.embedding} and ${config.units}).`);
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
