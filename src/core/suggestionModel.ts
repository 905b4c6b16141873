/**
 * Fits what a run suggests with, on its held-out text, once training is done: the weights
 * of the mixture of network, Kneser-Ney trigram and document cache (src/core/mixture.ts),
 * and the confidence threshold that saves the most keystrokes (src/core/typing.ts). Saved
 * with the run as suggestion.json, so the engine and `seqlab eval` suggest as measured.
 */
import type * as tf from '@tensorflow/tfjs';
import { adaptedTargetProbabilitiesAndStates, DEFAULT_ADAPTATION, type AdaptationSettings } from './adaptation';
import { UserError } from './errors';
import type { KneserNeyTrigram } from './kneserNey';
import { crossFittedMixture, mixtureNats as mixtureNatsOf, targetProbabilities, type MixtureWeights } from './mixture';
import { crossFittedNewWordShare, DEFAULT_NEW_WORD_SHARE, newWordCosts, newWordNats } from './newWordSpelling';
import { natsPerCharacter, type HeldOutText } from './perCharacter';
import { Predictor, type SuggestionParts } from './predictor';
import { NEURAL_CACHE_CANDIDATES, neuralCacheProbabilities, type NeuralCacheSettings } from './neuralCache';
import { targetProbabilitiesAndStates } from './scoring';
import type { Tokenizer } from './tokenizer';
import { chooseThresholds, simulateTyping, type Thresholds, type TypingFigures } from './typing';
import type { SuggestionReport } from '../protocol/types';

/** Saved with a run as suggestion.json. */
export interface SuggestionSettingsJSON {
  format: 'seqlab-suggestion';
  version: 1;
  weights: MixtureWeights;
  /** How the neural cache weighs what it remembers (neuralCache.ts); absent, with no neural-cache weight, in runs saved before it. */
  neuralCache?: NeuralCacheSettings;
  /**
   * Share of an unknown word's probability given to the document's earlier new words
   * (newWordSpelling.ts); absent in runs saved before it was fitted.
   */
  newWordShare?: number;
  /** The thresholds chosen on held-out text (SuggestOptions); the next-word one is absent in runs saved before it was fitted. */
  minConfidence: number;
  minNextWordConfidence?: number;
  /** The network learns from the document it reads (adaptation.ts); absent where that did not pay on held-out text, and in older runs. */
  adaptation?: AdaptationSettings;
}

/** A run's suggestion model as loaded: the trigram and the fitted settings. */
export interface RunSuggestionModel extends SuggestionParts, Thresholds {}

export interface SuggestionFit {
  settings: SuggestionSettingsJSON & { newWordShare: number; neuralCache: NeuralCacheSettings } & Thresholds;
  /** Nats of the held-out targets under the network alone, and under the mixture (cross-fitted weights). */
  networkNats: number;
  mixtureNats: number;
  /** Nats of the held-out targets under the network alone adapting to them as it reads (adaptation.ts). */
  adaptedNetworkNats: number;
  /** Nats to spell the unknown targets with the document's new words remembered (cross-fitted share); null without a spelling model. */
  newWordNats: number | null;
  /** Typing the held-out sample with the chosen threshold. */
  typing: TypingFigures;
}

export interface HeldOut {
  /** The held-out text as scored: its token ids, its unknown words and what they cost to spell. */
  text: HeldOutText;
  /** The held-out text as SeqLab would space it (what the simulated person types). */
  typed: string;
  seqLen: number;
  batch: number;
}

/** Fits the mixture weights and the threshold on held-out text (after training). */
export function fitSuggestionModel(
  model: tf.LayersModel,
  tokenizer: Tokenizer,
  kn3: KneserNeyTrigram,
  heldOut: HeldOut,
  maxWords: number,
): SuggestionFit {
  const still = fittedMixture(model, kn3, heldOut, undefined);
  const adapted = fittedMixture(model, kn3, heldOut, DEFAULT_ADAPTATION);
  // Adapting costs a step of training every few words typed: only where it pays on text the weights were not fitted on.
  const { mixture, adaptation } = adapted.mixture.nats < still.mixture.nats ? adapted : still;
  const spellings = heldOut.text.unknownSpellingNats;
  const newWords = spellings ? crossFittedNewWordShare(newWordCosts(heldOut.text.unknownWords, spellings)) : undefined;
  const newWordShare = newWords?.share ?? DEFAULT_NEW_WORD_SHARE;
  const fitted = { kn3, weights: mixture.weights, neuralCache: mixture.neuralCache, newWordShare, adaptation };
  const predictor = new Predictor(model, tokenizer, fitted);
  try {
    const { figures, ...thresholds } = chooseThresholds(predictor, heldOut.typed, maxWords);
    return {
      settings: {
        format: 'seqlab-suggestion',
        version: 1,
        weights: mixture.weights,
        neuralCache: mixture.neuralCache,
        newWordShare,
        ...(adaptation && { adaptation }),
        ...thresholds,
      },
      networkNats: totalNats(still.parts.network),
      adaptedNetworkNats: totalNats(adapted.parts.network),
      mixtureNats: mixture.nats,
      newWordNats: newWords?.nats ?? null,
      typing: figures,
    };
  } finally {
    predictor.dispose();
  }
}

/** Scores a run's fitted suggestion model on other text: the mixture's nats, the unknown words' and the typing figures. */
export function scoreSuggestionModel(
  model: tf.LayersModel,
  tokenizer: Tokenizer,
  suggestion: RunSuggestionModel,
  heldOut: HeldOut,
  maxWords: number,
): { mixtureNats: number; newWordNats: number | null; adaptedNetworkNats?: number; typing: TypingFigures } {
  const parts = partProbabilities(model, suggestion.kn3, heldOut, [suggestion.neuralCache], suggestion.adaptation);
  const mixtureNats = mixtureNatsOf({ ...parts, neuralCache: parts.neural[0].column }, suggestion.weights);
  const spellings = heldOut.text.unknownSpellingNats;
  const newWords = spellings ? newWordNats(newWordCosts(heldOut.text.unknownWords, spellings), suggestion.newWordShare) : null;
  const predictor = new Predictor(model, tokenizer, suggestion);
  try {
    const { minConfidence, minNextWordConfidence } = suggestion;
    return {
      mixtureNats,
      newWordNats: newWords,
      ...(suggestion.adaptation && { adaptedNetworkNats: totalNats(parts.network) }),
      typing: simulateTyping(predictor, heldOut.typed, { maxWords, minConfidence, minNextWordConfidence }),
    };
  } finally {
    predictor.dispose();
  }
}

/**
 * The figures of a fit or a score as reported. Nats per character count the mixture's
 * nats of every target and, for the unknown ones, the nats to spell them with the
 * document's new words remembered (null without a spelling model).
 */
export function suggestionReport(
  settings: Pick<SuggestionSettingsJSON, 'weights' | 'adaptation'> & Thresholds & { newWordShare: number },
  nats: { mixtureNats: number; newWordNats: number | null; adaptedNetworkNats?: number },
  typing: TypingFigures,
  heldOut: HeldOutText,
): SuggestionReport {
  return {
    weights: { ...settings.weights },
    newWordShare: settings.newWordShare,
    minConfidence: settings.minConfidence,
    minNextWordConfidence: settings.minNextWordConfidence,
    natsPerChar: nats.newWordNats === null ? null : (nats.mixtureNats + nats.newWordNats) / Math.max(heldOut.characters, 1),
    keystrokeSavings: typing.keystrokeSavings,
    wordStartOffered: typing.wordStartOffered,
    wordStartFirstWordRight: typing.wordStartFirstWordRight,
    wordStarts: typing.wordStarts,
    ...(settings.adaptation && { adaptation: { ...settings.adaptation } }),
    ...(nats.adaptedNetworkNats !== undefined && { adaptedNetworkNatsPerChar: natsPerCharacter(nats.adaptedNetworkNats, heldOut) }),
  };
}

/** The mixture fitted on the held-out text with the network adapting as it reads, or not (`adaptation` undefined). */
function fittedMixture(model: tf.LayersModel, kn3: KneserNeyTrigram, heldOut: HeldOut, adaptation: AdaptationSettings | undefined) {
  const parts = partProbabilities(model, kn3, heldOut, NEURAL_CACHE_CANDIDATES, adaptation);
  return { parts, mixture: crossFittedMixture(parts, parts.neural), adaptation };
}

/**
 * Each part's probability of every held-out target; the neural cache's under each of
 * `settings`. The network reads the text in lanes as validation does, or, adapting, in
 * one lane as the editor does.
 */
function partProbabilities(
  model: tf.LayersModel,
  kn3: KneserNeyTrigram,
  heldOut: HeldOut,
  settings: readonly NeuralCacheSettings[],
  adaptation: AdaptationSettings | undefined,
) {
  const { ids } = heldOut.text;
  const network = adaptation
    ? adaptedTargetProbabilitiesAndStates(model, ids, adaptation)
    : targetProbabilitiesAndStates(model, ids, heldOut.seqLen, heldOut.batch);
  const columns = neuralCacheProbabilities(ids, network.hidden, network.units, network.probabilities, settings);
  const { neuralCache: _, ...parts } = targetProbabilities(ids, network.probabilities, kn3, columns[0]);
  return { ...parts, neural: settings.map((s, k) => ({ settings: s, column: columns[k] })) };
}

/** Segments longer than the predictor's history of ids could not be learnt from. */
const MAX_SEGMENT_TOKENS = 1000;

function validAdaptation(value: unknown): boolean {
  const a = value as Partial<AdaptationSettings> | null;
  return (
    typeof a?.learningRate === 'number' &&
    a.learningRate > 0 &&
    Number.isFinite(a.learningRate) &&
    Number.isInteger(a.segmentTokens) &&
    a.segmentTokens! >= 1 &&
    a.segmentTokens! <= MAX_SEGMENT_TOKENS
  );
}

function totalNats(probabilities: Float64Array): number {
  let nats = 0;
  for (const p of probabilities) nats -= Math.log(p);
  return nats;
}

/** Checks a suggestion.json; one saved before the neural cache gets a neural-cache weight of 0. */
export function parseSuggestionSettings(json: unknown): SuggestionSettingsJSON {
  const data = json as Partial<SuggestionSettingsJSON> | null;
  const weights = data?.weights && { ...data.weights, neuralCache: data.weights.neuralCache ?? 0 };
  const share = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;
  const neural = data?.neuralCache;
  const positive = (x: unknown) => typeof x === 'number' && x > 0 && Number.isFinite(x);
  const valid =
    data?.format === 'seqlab-suggestion' &&
    data.version === 1 &&
    share(data.minConfidence) &&
    (data.minNextWordConfidence === undefined || share(data.minNextWordConfidence)) &&
    (data.newWordShare === undefined || (share(data.newWordShare) && data.newWordShare < 1)) &&
    !!weights &&
    share(weights.network) &&
    share(weights.kn3) &&
    share(weights.cache) &&
    share(weights.neuralCache) &&
    Math.abs(weights.network + weights.kn3 + weights.cache + weights.neuralCache - 1) < 1e-6 &&
    (neural === undefined ? weights.neuralCache === 0 : positive(neural?.flatness) && positive(neural?.evidence)) &&
    (data.adaptation === undefined || validAdaptation(data.adaptation));
  if (!valid) throw new UserError('suggestion.json is not a valid set of suggestion settings.');
  return { ...(data as SuggestionSettingsJSON), weights: weights! };
}
