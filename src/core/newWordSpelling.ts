/**
 * What an unknown word costs under the suggestion model. The network and KN3 only say
 * "some word outside the vocabulary"; the spelling model then spells it from its letters,
 * knowing nothing of the document. But a document repeats its own names and terms
 * ("Queequeg", a package name, a colleague's), and the suggestion model remembers the new
 * words it has read (NewWords) to offer them. So it gives a share of an unknown word's
 * probability to the words it remembers, by how often each came, and the rest to spelling:
 *
 *   P(word | <unk>) = share · P_remembered(word) + (1 − share) · P_spelling(word)
 *
 * The share is fitted on held-out text by expectation-maximisation, as the mixture weights
 * are, and cross-fitted for the figure reported. The predictor gives remembered words the
 * same share of <unk> when it suggests them.
 */
import { crossFitted, fitWeights } from './mixture';
import { NewWords } from './newWords';

/** The share for a run saved before it was fitted: about what prose measured (0.1–0.5). */
export const DEFAULT_NEW_WORD_SHARE = 0.2;

/** Each unknown target's two costs, in the order of the text. */
export interface NewWordCosts {
  /** Nats to spell it under the spelling model. */
  spellingNats: ArrayLike<number>;
  /** Its probability among the new words remembered when it came (0 for the first of its kind). */
  remembered: Float64Array;
}

/** The costs of `words` (the unknown targets of a text, in order), the memory filling as they are read. */
export function newWordCosts(words: readonly string[], spellingNats: ArrayLike<number>): NewWordCosts {
  const memory = new NewWords();
  const remembered = new Float64Array(words.length);
  words.forEach((word, i) => {
    remembered[i] = memory.probability(word);
    memory.add(word);
  });
  return { spellingNats, remembered };
}

/** Nats of unknown targets [from, to) with `share` of each word's probability given to remembered words. */
export function newWordNats(costs: NewWordCosts, share: number, from = 0, to = costs.remembered.length): number {
  let nats = 0;
  for (let i = from; i < to; i++) {
    const spelled = costs.spellingNats[i];
    const remembered = costs.remembered[i];
    // In logs where the word was never seen before: a long word's spelling underflows exp().
    nats += remembered > 0 ? -Math.log(share * remembered + (1 - share) * Math.exp(-spelled)) : spelled - Math.log(1 - share);
  }
  return nats;
}

/** The share that fits unknown targets [from, to) best; 0 when none was seen before. */
export function fitNewWordShare(costs: NewWordCosts, from = 0, to = costs.remembered.length): number {
  const spelled = Float64Array.from({ length: costs.remembered.length }, (_, i) => Math.exp(-costs.spellingNats[i]));
  const weights = fitWeights([costs.remembered, spelled], from, to);
  // Never all of it: a word met for the first time must keep some probability.
  return Math.min(weights?.[0] ?? 0, 0.99);
}

/** The fitted share and the nats it scores on the text with shares fitted on the other half (cross-fitted). */
export function crossFittedNewWordShare(costs: NewWordCosts): { nats: number; share: number } {
  const fit = crossFitted(
    costs.remembered.length,
    (from, to) => fitNewWordShare(costs, from, to),
    (share, from, to) => newWordNats(costs, share, from, to),
  );
  return { nats: fit.nats, share: fit.weights };
}
