/**
 * Fits what a run suggests with, on its held-out text, once training is done: the weights
 * of the mixture of network, Kneser-Ney trigram and document cache (src/core/mixture.ts),
 * and the confidence threshold that saves the most keystrokes (src/core/typing.ts). Saved
 * with the run as suggestion.json, so the engine and `seqlab eval` suggest as measured.
 */
import type * as tf from '@tensorflow/tfjs';
import { UserError } from './errors';
import type { KneserNeyTrigram } from './kneserNey';
import { crossFittedMixture, mixtureNats as mixtureNatsOf, targetProbabilities, type MixtureWeights } from './mixture';
import { natsPerCharacter, type HeldOutText } from './perCharacter';
import { Predictor, type SuggestionParts } from './predictor';
import { targetProbabilities as networkProbabilities } from './scoring';
import type { Tokenizer } from './tokenizer';
import { chooseMinConfidence, simulateTyping, type TypingFigures } from './typing';
import type { SuggestionReport } from '../protocol/types';

/** Saved with a run as suggestion.json. */
export interface SuggestionSettingsJSON {
  format: 'seqlab-suggestion';
  version: 1;
  weights: MixtureWeights;
  /** The threshold chosen on held-out text (SuggestOptions.minConfidence). */
  minConfidence: number;
}

/** A run's suggestion model as loaded: the trigram and the fitted settings. */
export interface RunSuggestionModel extends SuggestionParts {
  minConfidence: number;
}

export interface SuggestionFit {
  settings: SuggestionSettingsJSON;
  /** Nats of the held-out targets under the network alone, and under the mixture (cross-fitted weights). */
  networkNats: number;
  mixtureNats: number;
  /** Typing the held-out sample with the chosen threshold. */
  typing: TypingFigures;
}

/** Characters of held-out text typed to choose the threshold: a stable figure in seconds. */
export const TUNING_CHARACTERS = 1500;

export interface HeldOut {
  /** Token ids of the held-out text. */
  ids: Int32Array;
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
  const parts = partProbabilities(model, kn3, heldOut);
  const mixture = crossFittedMixture(parts);
  const predictor = new Predictor(model, tokenizer, { kn3, weights: mixture.weights });
  try {
    const { minConfidence, figures } = chooseMinConfidence(predictor, heldOut.typed.slice(0, TUNING_CHARACTERS), maxWords);
    return {
      settings: { format: 'seqlab-suggestion', version: 1, weights: mixture.weights, minConfidence },
      networkNats: totalNats(parts.network),
      mixtureNats: mixture.nats,
      typing: figures,
    };
  } finally {
    predictor.dispose();
  }
}

/** Scores a run's fitted suggestion model on other text: the mixture's nats and the typing figures. */
export function scoreSuggestionModel(
  model: tf.LayersModel,
  tokenizer: Tokenizer,
  suggestion: RunSuggestionModel,
  heldOut: HeldOut,
  maxWords: number,
): { mixtureNats: number; typing: TypingFigures } {
  const mixtureNats = mixtureNatsOf(partProbabilities(model, suggestion.kn3, heldOut), suggestion.weights);
  const predictor = new Predictor(model, tokenizer, suggestion);
  try {
    return { mixtureNats, typing: simulateTyping(predictor, heldOut.typed, { maxWords, minConfidence: suggestion.minConfidence }) };
  } finally {
    predictor.dispose();
  }
}

/** The figures of a fit or a score as reported (nats per character needs the text's spelling costs). */
export function suggestionReport(
  weights: MixtureWeights,
  minConfidence: number,
  mixtureNats: number,
  typing: TypingFigures,
  heldOut: HeldOutText,
): SuggestionReport {
  return {
    weights: { ...weights },
    minConfidence,
    natsPerChar: natsPerCharacter(mixtureNats, heldOut),
    keystrokeSavings: typing.keystrokeSavings,
    wordStartOffered: typing.wordStartOffered,
    wordStartFirstWordRight: typing.wordStartFirstWordRight,
  };
}

function partProbabilities(model: tf.LayersModel, kn3: KneserNeyTrigram, heldOut: HeldOut) {
  return targetProbabilities(heldOut.ids, networkProbabilities(model, heldOut.ids, heldOut.seqLen, heldOut.batch), kn3);
}

function totalNats(probabilities: Float64Array): number {
  let nats = 0;
  for (const p of probabilities) nats -= Math.log(p);
  return nats;
}

export function parseSuggestionSettings(json: unknown): SuggestionSettingsJSON {
  const data = json as Partial<SuggestionSettingsJSON> | null;
  const weights = data?.weights;
  const share = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;
  const valid =
    data?.format === 'seqlab-suggestion' &&
    data.version === 1 &&
    share(data.minConfidence) &&
    !!weights &&
    share(weights.network) &&
    share(weights.kn3) &&
    share(weights.cache) &&
    Math.abs(weights.network + weights.kn3 + weights.cache - 1) < 1e-6;
  if (!valid) throw new UserError('suggestion.json is not a valid set of suggestion settings.');
  return data as SuggestionSettingsJSON;
}
