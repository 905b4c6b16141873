/**
 * Nats per character (DESIGN.md §5): total nats over the evaluated text / its characters,
 * unknown words paying for their spelling. Per-token figures depend on the vocabulary (a
 * model that calls more words <unk> predicts fewer, easier tokens); per character, any
 * tokenization of the same text is on one scale. Every model scored here (the network,
 * KN3) reads the same targets, the text's tokens after the first, so the characters are
 * those after the first token, whitespace included.
 */
import { NEWLINE_TOKEN } from './tokenizer';
import type { SpellingModel } from './spelling';

/** What nats per character needs of an evaluated text, apart from a model's token nats. */
export interface HeldOutText {
  /** Token ids; the targets are ids[1..]. */
  ids: Int32Array;
  /** Code points of the text after its first token. */
  characters: number;
  /** Targets that are the unknown-word token. */
  unknownTargets: number;
  /** Nats to spell the unknown targets; null without a spelling model (a run saved before spelling.json). */
  spellingNats: number | null;
  /** The unknown targets as written, in order, and each one's nats to spell (null without a spelling model). */
  unknownWords: string[];
  unknownSpellingNats: Float64Array | null;
}

/**
 * Describes `text` for scoring. `tokens` are its surface tokens, one per id
 * (`tokenizer.tokenize(text)` beside `tokenizer.encode(text)`), so each unknown target's
 * own letters are what it spells.
 */
export function describeHeldOut(
  text: string,
  tokens: readonly string[],
  ids: Int32Array,
  unknownId: number,
  spelling: Pick<SpellingModel, 'nats'> | undefined,
): HeldOutText {
  if (tokens.length !== ids.length) throw new Error(`${tokens.length} tokens do not align with ${ids.length} ids.`);
  const unknownWords: string[] = [];
  for (let i = 1; i < ids.length; i++) if (ids[i] === unknownId) unknownWords.push(tokens[i]);
  const unknownSpellingNats = spelling ? Float64Array.from(unknownWords, (word) => spelling.nats(word)) : null;
  const characters = tokens.length > 0 ? codePointCount(text, firstTokenEnd(text, tokens[0])) : 0;
  return {
    ids,
    characters,
    unknownTargets: unknownWords.length,
    spellingNats: unknownSpellingNats ? unknownSpellingNats.reduce((sum, nats) => sum + nats, 0) : null,
    unknownWords,
    unknownSpellingNats,
  };
}

/** Targets scored on the text: every token but the first. */
export function targetCount(heldOut: HeldOutText): number {
  return Math.max(heldOut.ids.length - 1, 0);
}

/** Share of the targets that are unknown words (0 for a text without targets). */
export function unknownShare(heldOut: HeldOutText): number {
  return heldOut.unknownTargets / Math.max(targetCount(heldOut), 1);
}

/**
 * (token nats + spelling nats of the unknown targets) / characters, where `tokenNats` is a
 * model's total over all targets (mean loss × targetCount). Null when the spelling cost is unknown.
 */
export function natsPerCharacter(tokenNats: number, heldOut: HeldOutText): number | null {
  if (heldOut.spellingNats === null) return null;
  return (tokenNats + heldOut.spellingNats) / Math.max(heldOut.characters, 1);
}

/**
 * Where the first token ends in `text`. Tokens skip whitespace other than line breaks, so the
 * first token is the text's first line break or starts at its first non-space character.
 */
function firstTokenEnd(text: string, first: string): number {
  if (first === NEWLINE_TOKEN) {
    const lineBreak = /\r\n?|\n/.exec(text);
    return lineBreak ? lineBreak.index + lineBreak[0].length : 0;
  }
  const start = text.search(/\S/);
  return start < 0 ? text.length : start + first.length;
}

/** Code points of text[from..], so a character beyond the Basic Multilingual Plane counts once. */
function codePointCount(text: string, from: number): number {
  let count = 0;
  for (let i = from; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A low surrogate after a high one is the second half of a character already counted.
    if (!(unit >= 0xdc00 && unit <= 0xdfff && i > from && isHighSurrogate(text.charCodeAt(i - 1)))) count++;
  }
  return count;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
