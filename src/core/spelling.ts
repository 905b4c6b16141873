/**
 * What an unknown word costs to spell. A word-level model only says "some word outside the
 * vocabulary comes next"; to compare it with models of other vocabularies (or with a
 * character model) in nats per character, every unknown word also pays for its letters
 * (DESIGN.md §5). The letters come from a Kneser-Ney trigram model over characters, fitted
 * on the words seen once in the training part: those are the words a vocabulary leaves
 * out, so they spell like the unknown words of new text.
 *
 * Characters get dense ids: BOUNDARY stands before a word's first letter and after its
 * last, UNSEEN for any letter the training words never used, which then also picks one of
 * UNSEEN_ALPHABET code points uniformly. Over all strings of those code points the costs sum
 * to at most one, so an unknown word's probability, P(<unk>) · P(its spelling), is a share
 * of P(<unk>) and never more.
 */
import { UserError } from './errors';
import { KneserNeyTrigram, type KneserNeyJSON } from './kneserNey';

/** Saved with a run as spelling.json. */
export interface SpellingJSON {
  format: 'seqlab-spelling';
  version: 1;
  /** Code point of each seen letter; letter k has id FIRST_LETTER + k. */
  letters: number[];
  /** Character trigram counts over those ids. */
  ngrams: KneserNeyJSON;
}

const BOUNDARY = 0;
const UNSEEN = 1;
const FIRST_LETTER = 2;
/** Code points a letter never seen in training is taken from, uniformly: the Basic Multilingual Plane. */
const UNSEEN_ALPHABET = 65536;
const MAX_CODE_POINT = 0x10ffff;

export class SpellingModel {
  private readonly ids: Map<number, number>;

  private constructor(
    private readonly letters: readonly number[],
    private readonly model: KneserNeyTrigram,
  ) {
    this.ids = new Map(letters.map((letter, k) => [letter, FIRST_LETTER + k]));
  }

  /** Fits the model on the words of `tokens` that occur exactly once (all of them if none does). */
  static fit(tokens: readonly string[]): SpellingModel {
    const counts = new Map<string, number>();
    for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
    let words = [...counts].filter(([, count]) => count === 1).map(([word]) => word);
    if (words.length === 0) words = [...counts.keys()];
    const ids = new Map<number, number>();
    const stream: number[] = [];
    // Two boundaries before each word, so its first letter always has the context (BOUNDARY, BOUNDARY).
    for (const word of words) {
      stream.push(BOUNDARY, BOUNDARY);
      for (const letter of codePoints(word)) {
        let id = ids.get(letter);
        if (id === undefined) ids.set(letter, (id = FIRST_LETTER + ids.size));
        stream.push(id);
      }
    }
    if (words.length > 0) stream.push(BOUNDARY); // the last word's end
    const model = KneserNeyTrigram.fit(Int32Array.from(stream), FIRST_LETTER + ids.size);
    return new SpellingModel([...ids.keys()], model);
  }

  static fromJSON(json: unknown): SpellingModel {
    const invalid = () => new UserError('spelling.json is not a valid table of letter counts.');
    const data = json as Partial<SpellingJSON> | null;
    const letters = data?.letters;
    const valid =
      data?.format === 'seqlab-spelling' &&
      data.version === 1 &&
      Array.isArray(letters) &&
      letters.every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_CODE_POINT) &&
      new Set(letters).size === letters.length &&
      data.ngrams?.vocabSize === FIRST_LETTER + letters.length;
    if (!valid) throw invalid();
    try {
      return new SpellingModel(letters!, KneserNeyTrigram.fromJSON(data.ngrams));
    } catch {
      throw invalid(); // the n-gram parser's message names ngrams.json
    }
  }

  toJSON(): SpellingJSON {
    return { format: 'seqlab-spelling', version: 1, letters: [...this.letters], ngrams: this.model.toJSON() };
  }

  /** Nats to spell `word` letter by letter, its end included. */
  nats(word: string): number {
    let nats = 0;
    let u = BOUNDARY;
    let v = BOUNDARY;
    for (const letter of codePoints(word)) {
      const id = this.ids.get(letter) ?? UNSEEN;
      nats -= Math.log(this.model.probability(u, v, id));
      if (id === UNSEEN) nats += Math.log(UNSEEN_ALPHABET);
      u = v;
      v = id;
    }
    return nats - Math.log(this.model.probability(u, v, BOUNDARY));
  }
}

function codePoints(word: string): number[] {
  return Array.from(word, (c) => c.codePointAt(0)!);
}
