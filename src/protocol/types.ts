/**
 * Plain JSON shapes shared by the engine, the CLI, the language server and the webviews.
 * Nothing here imports TensorFlow.js or VS Code.
 */

export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendPreference = BackendName | 'auto';

export const CELL_TYPES = ['rnn', 'gru', 'lstm'] as const;
export type CellType = (typeof CELL_TYPES)[number];

/** How text becomes tokens; saved with every run. */
export interface TokenizerOptions {
  /** Most frequent tokens kept; the rest map to the unknown-word token. */
  maxVocab: number;
  /** Tokens seen fewer times than this map to the unknown-word token. */
  minCount: number;
  /** Fold the corpus to lower case before counting. */
  lowercase: boolean;
}

/** Everything that decides a run's result; saved as config.json with run facts added. */
export interface TrainConfig extends TokenizerOptions {
  cell: CellType;
  embedding: number;
  units: number;
  layers: number;
  dropout: number;
  seqLen: number;
  batch: number;
  epochs: number;
  learningRate: number;
  /** Gradients are clipped to this global norm. */
  clipNorm: number;
  /** Share of the token stream, taken from its end, held out for validation. */
  valSplit: number;
  /** Epochs without a better validation loss before training stops. 0 = never. */
  patience: number;
  seed: number;
  backend: BackendPreference;
}

/** Reported after each batch. */
export interface BatchProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
  etaSeconds: number;
}

/** Reported after each epoch; one line of metrics.jsonl. */
export interface EpochMetrics {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  /** Validation figures are null when the run holds out no validation part. */
  valLoss: number | null;
  valAccuracy: number | null;
  valPerplexity: number | null;
  tokensPerSecond: number;
  elapsedSeconds: number;
  etaSeconds: number;
  /** This epoch has the best validation loss so far (its weights are the ones kept). */
  best: boolean;
  /** Training was stopped during this epoch; its figures cover the batches done. */
  partial: boolean;
}

export type StopReason = 'completed' | 'early-stopped' | 'cancelled';

/** Perplexities of counting models on the same split: what a network must beat. */
export interface Baselines {
  uniform: number;
  unigram: number;
  bigram: number;
}

/** The one-line result of `seqlab train`. */
export interface TrainSummary {
  cell: CellType;
  params: number;
  vocabSize: number;
  epochs: number;
  bestEpoch: number;
  stopReason: StopReason;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  valPerplexity: number | null;
  tokensPerSecond: number;
  seconds: number;
  backend: BackendName;
  modelDir: string;
  baselines: Baselines;
}

/** The result of `seqlab eval`. */
export interface EvalReport {
  tokens: number;
  loss: number;
  perplexity: number;
  top1Accuracy: number;
  top5Accuracy: number;
  keystrokeSavings: number;
  baselines: Baselines;
}
