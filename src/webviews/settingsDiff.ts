/**
 * The settings of the runs shown side by side, as W&B's "diff only" table: with
 * `diffOnly`, just the rows where the runs differ, which is what explains their curves.
 * Pure, for test/unit/dashboardLogic.test.ts.
 */
import type { RunInfo } from '../protocol/lsp';
import type { TrainConfig } from '../protocol/types';

/** Row names, in the order a person reads a model: text, shape, training, vocabulary. Keys not listed (newer settings) follow. */
const NAMES: Partial<Record<keyof TrainConfig, string>> = {
  cell: 'cell',
  embedding: 'embedding',
  units: 'units',
  layers: 'layers',
  tieWeights: 'tied weights',
  subwordVectors: 'subword vectors',
  dropout: 'dropout',
  inputDropout: 'input dropout',
  seqLen: 'sequence length',
  batch: 'batch (lanes)',
  epochs: 'most epochs',
  learningRate: 'learning rate',
  lrDecay: 'learning-rate decay',
  clipNorm: 'clip norm',
  averageDecay: 'weight averaging',
  patience: 'patience',
  valSplit: 'validation share',
  maxVocab: 'most words',
  minCount: 'min count',
  rareAsUnknown: 'rare words as unknown',
  lowercase: 'lower case',
  seed: 'seed',
  backend: 'backend asked',
};

export interface SettingsRow {
  name: string;
  values: string[];
  differs: boolean;
}

type Compared = Pick<RunInfo, 'corpusName' | 'config' | 'backend'>;

export function settingsRows(runs: readonly Compared[], diffOnly: boolean): SettingsRow[] {
  const keys = [...Object.keys(NAMES), ...new Set(runs.flatMap((run) => Object.keys(run.config)))].filter(
    (key, i, all) => all.indexOf(key) === i,
  ) as (keyof TrainConfig)[];
  const rows: SettingsRow[] = [
    row('text', runs.map((run) => run.corpusName)),
    ...keys.map((key) => row(NAMES[key] ?? key, runs.map((run) => show(run.config[key])))),
    row('backend used', runs.map((run) => run.backend ?? '–')),
  ];
  return diffOnly ? rows.filter((r) => r.differs) : rows;
}

function row(name: string, values: string[]): SettingsRow {
  return { name, values, differs: new Set(values).size > 1 };
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '–';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}
