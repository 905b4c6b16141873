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
  /** Dropout after each recurrent layer. */
  dropout: number;
  /** Dropout on the word vectors, before the first recurrent layer. */
  inputDropout: number;
  /** Weight drop: DropConnect on each recurrent kernel, one mask per training batch. */
  weightDrop: number;
  /**
   * The Kneser-Ney trigram's share of every training target (distillation: (1 − α)·the
   * next word + α·the trigram's distribution after the two words before it); 0 = the text's words alone.
   */
  distill: number;
  /**
   * Each word's vector is its own plus vectors of the letter groups of its spelling that
   * other words share (subword vectors, trained only: the saved model is the same).
   */
  subwordVectors: boolean;
  /** The output layer reuses the embedding matrix (transposed); needs embedding = units. */
  tieWeights: boolean;
  /**
   * The share of the training text's words seen once that each epoch reads as `<unk>`
   * (a new choice every epoch; the count models take one fixed choice), so that a
   * vocabulary with every word still learns how often new words come.
   */
  rareAsUnknown: number;
  seqLen: number;
  batch: number;
  epochs: number;
  learningRate: number;
  /** Gradients are clipped to this global norm. */
  clipNorm: number;
  /** Validation and the saved model use an average of the weights that keeps this much of itself each step (0 = the last step's weights). */
  averageDecay: number;
  /** The learning rate is multiplied by this after an epoch that did not improve the validation loss (1 = never). */
  lrDecay: number;
  /** Share of the token stream, taken from its end, held out for validation. */
  valSplit: number;
  /** Epochs without a better validation loss before training stops. 0 = never. */
  patience: number;
  seed: number;
  backend: BackendPreference;
  /**
   * Words a training step's output layer scores besides the batch's targets (a sampled
   * softmax, until validation stops improving and for the last epoch); 0 = every word.
   */
  softmaxSamples: number;
  /**
   * Threads that train one run together on wasm and cpu (data-parallel: each computes the
   * gradients of some of the batch's lanes). 0 = measure 1 against every core the run may
   * use and take the faster.
   */
  threads: number;
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

/**
 * Counting models on the same targets as the network: what it must beat. A network that
 * does not beat KN3 has not learned more than counting.
 */
export interface Baselines {
  /** Perplexity of a uniform guess: the vocabulary size. */
  uniform: number;
  /** Perplexity of add-one word frequencies. */
  unigram: number;
  /** Perplexity of an interpolated modified Kneser-Ney trigram. */
  kn3: number;
  /** KN3's nats per character of the held-out text; null for a run saved before spelling.json. */
  kn3NatsPerChar: number | null;
  /** Share of the held-out targets that are the unknown-word token. */
  unknownShare: number;
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
  /** Nats per character of the validation text at the best epoch (DESIGN.md §5); null without one. */
  natsPerChar: number | null;
  tokensPerSecond: number;
  seconds: number;
  backend: BackendName;
  /** Why this backend: as set, the only one that loads, or measured faster (and by how much). */
  backendReason: string;
  modelDir: string;
  /** The suggestion model fitted after training; null without a validation part to fit it on. */
  suggestion: SuggestionReport | null;
  baselines: Baselines;
}

/**
 * What suggests for a run and how well: the network mixed with the KN3 model and a cache
 * of the document (weights fitted on held-out text), and the confidence threshold that
 * saved the most keystrokes there.
 */
/** How the network of a suggestion model learns from the document it reads (src/core/adaptation.ts). */
export interface AdaptationSettings {
  /** Step size of plain gradient descent on each segment's mean loss. */
  learningRate: number;
  /** Tokens per step: the network adapts on every `segmentTokens` tokens it has read. */
  segmentTokens: number;
}

export interface SuggestionReport {
  /** Shares of the mixture: network, KN3, document cache, neural cache (they sum to 1; no neural cache in summaries saved before it). */
  weights: { network: number; kn3: number; cache: number; neuralCache?: number };
  /** Share of an unknown word's probability given to the new words the document used before (the rest spells it). */
  newWordShare: number;
  /** Show a suggestion when the model gives all of it at least this probability. */
  minConfidence: number;
  /** The same for a next-word ghost at a word start (absent in summaries saved before it was fitted). */
  minNextWordConfidence?: number;
  /** Nats per character of the mixture on the held-out text; null without a spelling model. */
  natsPerChar: number | null;
  /** Simulated typing of held-out text with the ghost text (DESIGN.md §5). */
  keystrokeSavings: number;
  /** Share of word starts where a suggestion was shown, and of those whose first word was right. */
  wordStartOffered: number;
  wordStartFirstWordRight: number;
  /** Word starts those shares are of (absent in summaries saved before it was kept), so a reader can tell their noise. */
  wordStarts?: number;
  /** The network adapts to the document as it reads (absent: it does not, or the run predates it). */
  adaptation?: AdaptationSettings;
  /** Nats per character of the network alone adapting to the text as it reads (absent where not measured; null without a spelling model). */
  adaptedNetworkNatsPerChar?: number | null;
}

/** The result of `seqlab eval`. */
export interface EvalReport {
  tokens: number;
  loss: number;
  perplexity: number;
  /** Nats per character of the text (DESIGN.md §5); null for a run saved before spelling.json. */
  natsPerChar: number | null;
  top1Accuracy: number;
  top5Accuracy: number;
  /** Keystroke savings of the network alone (no mixture), at the same threshold. */
  keystrokeSavings: number;
  /** The run's suggestion model on this text; null for a run saved before suggestion.json. */
  suggestion: SuggestionReport | null;
  baselines: Baselines;
}
