/**
 * Word-level tokenizer: words, numbers and punctuation marks are tokens, and each line break
 * is a token of its own. `Intl.Segmenter` finds the words, so text written without spaces
 * (Chinese, Japanese) splits into words too.
 *
 * Spaces are not tokens. Instead `fit` learns from the corpus where spaces go: per token,
 * whether it usually has a space before and after it (`.` in prose glues to the word before
 * it, `(` in code glues to both sides), plus the few token pairs that rule gets wrong (`=>`,
 * `if (`). `decode` uses this to turn generated tokens back into natural text.
 */
import { UserError } from './errors';
import { detectSoftWraps, isSoftWrap, type SoftWrapRule } from './lineWraps';
import type { TokenizerOptions } from '../protocol/types';

export const UNKNOWN_TOKEN = '<unk>';
/** The id of UNKNOWN_TOKEN in every vocabulary. */
export const UNKNOWN_ID = 0;
export const NEWLINE_TOKEN = '\n';
/** Keep every word: training passes its own choice (src/core/config.ts); this is the neutral default of the primitive. */
export const DEFAULT_TOKENIZER_OPTIONS: TokenizerOptions = Object.freeze({ maxVocab: 10000, minCount: 1, lowercase: false });

/** Saved with the model as tokenizer.json. */
export interface TokenizerJSON {
  format: 'seqlab-tokenizer';
  version: 1;
  options: TokenizerOptions;
  /** 'soft-wraps': the text was hard-wrapped, so a single line break inside a paragraph is a space. Absent means 'kept'. */
  lineBreaks?: 'kept' | 'soft-wraps';
  /** With 'soft-wraps': the break after a shorter line stays a break (SoftWrapRule). Absent (runs before it): 0. */
  shortestWrappedLine?: number;
  /** id -> token; id 0 is UNKNOWN_TOKEN. */
  vocab: string[];
  /** How often each token occurred in the corpus; counts[0] sums every token left out. */
  counts: number[];
  spacing: {
    /**
     * One character per id for each side of the token: 'g' = usually glued to its neighbour,
     * 's' = usually spaced, '-' = no clear evidence (the built-in defaults decide).
     */
    before: string;
    after: string;
    /** Straight quote marks placed by alternation: opening, closing, opening, ... */
    pairedQuotes: string[];
    /** Neighbouring tokens the per-token rule would wrongly glue, or wrongly space. */
    spacedPairs: [string, string][];
    gluedPairs: [string, string][];
  };
}

/** A token and where it lies in the text it came from: code-unit offsets, end exclusive. */
export interface TokenSpan {
  token: string;
  start: number;
  end: number;
}

// ---------------------------------------------------------------------------------------------
// Splitting

let wordSegmenter: Intl.Segmenter | undefined;

/**
 * `Intl.Segmenter` gets slow on long strings (80k characters took seconds in Node 20) and has
 * a fixed cost per call, so it only sees short pieces: whitespace always ends a word, and a
 * longer run without whitespace is cut into windows at segment boundaries.
 */
const SEGMENT_WINDOW = 256;

/**
 * A whitespace-free run made of ASCII letters, digits and `_` with plain ASCII punctuation
 * around it ("(word", "Ishmael.", "ok?\"") segments exactly like this under the Unicode word
 * rules (UAX #29): the word part is one word and each mark is its own segment. The shortcut
 * skips the segmenter for most runs of English text and code, which makes tokenizing a novel
 * about 3x faster. Everything else goes through the segmenter.
 */
const SIMPLE_RUN = /^([([{"']*)(\w+)([.,;:!?)\]}"']*)$/;

function segmentRun(run: string, emit: (token: string) => void): void {
  const simple = SIMPLE_RUN.exec(run);
  if (simple) {
    for (const mark of simple[1]) emit(mark);
    emit(simple[2]);
    for (const mark of simple[3]) emit(mark);
    return;
  }
  wordSegmenter ??= new Intl.Segmenter(undefined, { granularity: 'word' });
  let start = 0;
  while (start < run.length) {
    const end = Math.min(run.length, start + SEGMENT_WINDOW);
    const segments = [...wordSegmenter.segment(run.slice(start, end))];
    // The window may cut its last word in two: that word starts the next window.
    const keep = end < run.length && segments.length > 1 ? segments.length - 1 : segments.length;
    for (let i = 0; i < keep; i++) emit(segments[i].segment);
    start += keep < segments.length ? segments[keep].index : end - start;
  }
}

/** Line breaks in text[from, to); \r\n and a lone \r count as one each. */
function countLineBreaks(text: string, from: number, to: number): number {
  let breaks = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) breaks++;
  }
  return breaks;
}

/** Where a token lies in the scanned text: code-unit offsets [start, end). */
interface TokenPlace {
  start: number;
  end: number;
}

/**
 * Walks the tokens of `text`. `spaced` says whether whitespace separated the token from the
 * previous token on the same line; it is null for line breaks and the first token of a line,
 * where spacing is no choice. Other whitespace is dropped, so leading indentation and runs of
 * spaces are lost (a language model has no use for them), and more than two line breaks in a
 * row become two: a paragraph break is all a generated text needs. `place` is where the
 * token lies in `text` (a line break token: its line break).
 */
function scan(
  text: string,
  lowercase: boolean,
  emit: (token: string, spaced: boolean | null, place: TokenPlace) => void,
  softWraps: SoftWrapRule | null = null,
): void {
  const runs = /\S+/g;
  let end = 0;
  for (let match = runs.exec(text); match !== null; match = runs.exec(text)) {
    let breaks = countLineBreaks(text, end, match.index);
    if (softWraps && breaks === 1 && end > 0 && isSoftWrap(text, end, match.index, match[0], softWraps)) breaks = 0;
    emitLineBreaks(text, end, Math.min(breaks, 2), emit);
    let spaced: boolean | null = end === 0 || breaks > 0 ? null : true;
    // Lower-casing run by run reads the same as lower-casing the text: whitespace never changes.
    const run = lowercase ? match[0].toLowerCase() : match[0];
    // A few letters grow when lower-cased ("İ"); then each token of the run is placed on all of it.
    const exact = run.length === match[0].length;
    let offset = match.index;
    segmentRun(run, (token) => {
      const place = exact ? { start: offset, end: offset + token.length } : { start: match.index, end: runs.lastIndex };
      offset += token.length;
      emit(token, spaced, place);
      spaced = false;
    });
    end = runs.lastIndex;
  }
  const trailing = countLineBreaks(text, end, text.length);
  emitLineBreaks(text, end, Math.min(trailing, 2), emit);
}

/** Emits the first `count` line breaks after `from` as line break tokens, each placed on its \n, \r\n or \r. */
function emitLineBreaks(text: string, from: number, count: number, emit: (token: string, spaced: null, place: TokenPlace) => void): void {
  const lineBreak = /\r\n?|\n/g;
  lineBreak.lastIndex = from;
  for (let i = 0; i < count; i++) {
    const found = lineBreak.exec(text)!;
    emit(NEWLINE_TOKEN, null, { start: found.index, end: found.index + found[0].length });
  }
}

/** Splits text into surface tokens (no ids, no vocabulary). Whitespace other than line breaks is dropped. */
export function splitTokens(text: string, lowercase = false): string[] {
  const tokens: string[] = [];
  scan(text, lowercase, (token) => tokens.push(token));
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Spacing

/** What the corpus says about one side of a token, as stored in a Uint8Array. */
const UNSURE = 0;
const SPACED = 1;
const GLUED = 2;
const SIDE_CHARS = ['-', 's', 'g']; // indexed by the values above

/** Fallbacks for tokens (or sides of tokens) the corpus gave no clear evidence about. */
const OPENING = new Set(['(', '[', '{', '“', '‘', '«', '¿', '¡']);
const CLOSING = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', '%', '”', '’', '»', '…']);
const CJK_PUNCTUATION = new Set([...'，。！？、：；「」『』（）【】《》〈〉〔〕・～']);
const CJK_START = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}ー]/u;
const CJK_END = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}ー]$/u;

/**
 * Straight quotes open and close with the same mark, so a per-token majority cannot place
 * them. Where the corpus agrees (fit checks each mark), they alternate instead: within a
 * paragraph the first is an opening quote (glued to what follows), the next a closing one
 * (glued to what precedes), and so on.
 */
const STRAIGHT_QUOTES = new Set(['"', "'", '`']);
type QuoteRole = 'opening' | 'closing' | null;

/** Tells opening from closing quotes by alternation; a blank line closes every quote. */
class QuoteParity {
  private readonly open = new Set<string>();
  private newlines = 0;

  constructor(private readonly marks: ReadonlySet<string>) {}

  /** The role `token` would have next, without advancing the state. */
  peek(token: string): QuoteRole {
    if (token === NEWLINE_TOKEN || !this.marks.has(token)) return null;
    return this.open.has(token) ? 'closing' : 'opening';
  }

  /** The role of `token` (null if it is not a tracked quote mark), advancing the state. */
  next(token: string): QuoteRole {
    if (token === NEWLINE_TOKEN) {
      if (++this.newlines >= 2) this.open.clear();
      return null;
    }
    this.newlines = 0;
    if (!this.marks.has(token)) return null;
    if (this.open.delete(token)) return 'closing';
    this.open.add(token);
    return 'opening';
  }
}

/**
 * When two tokens touch, the glue is evidence about the token of the stronger kind only: in
 * `(word` it says something about `(`, not `word`, so a word first seen after `(` does not
 * learn to glue to everything. Two touching words (Chinese) both learn; two touching marks
 * (`),` `=>`) teach neither side, as either could be the cause (the pair list covers them).
 * A space is evidence for both sides.
 */
const WORD = 0;
const MARK = 1;
const QUOTE = 2;
const WORDLIKE = /[\p{L}\p{N}]/u;
/** Whether a token is a word (has a letter or digit), not punctuation or a line break. */
export function isWordLike(token: string): boolean {
  return WORDLIKE.test(token);
}
function kindOf(token: string): number {
  if (STRAIGHT_QUOTES.has(token)) return QUOTE;
  return isWordLike(token) ? WORD : MARK;
}

interface LearnedSpacing {
  before: Uint8Array;
  after: Uint8Array;
  pairedQuotes: ReadonlySet<string>;
  /** Pair key (`pairKey`) -> true for a space, false for none. */
  pairs: ReadonlyMap<number, boolean>;
}

/**
 * The joining rule. A space goes between tokens A and B unless A glues to what follows it or
 * B glues to what precedes it: either side may veto the space. That round-trips well because
 * the glue belongs to the punctuation: in `word.` only `.` glues, in `(word` only `(`, and
 * `...` comes back as three left-gluing dots. Each side uses the corpus majority; without
 * one, the defaults: no space after opening or before closing punctuation, around CJK
 * punctuation, or between two Han/Kana tokens (Hangul uses spaces). Paired quotes glue
 * inwards. Pairs the corpus spaced differently from this rule most of the time are listed
 * and win.
 */
class Spacing {
  constructor(
    private readonly ids: ReadonlyMap<string, number>,
    readonly learned: LearnedSpacing,
  ) {}

  space(previous: string, previousRole: QuoteRole, token: string, role: QuoteRole): boolean {
    const a = this.ids.get(previous);
    const b = this.ids.get(token);
    const listed = a === undefined || b === undefined ? undefined : this.learned.pairs.get(this.pairKey(a, b));
    if (listed !== undefined) return listed;
    return this.ruleSpace(previous, previousRole, token, role);
  }

  /** The rule without the pair list. */
  ruleSpace(previous: string, previousRole: QuoteRole, token: string, role: QuoteRole): boolean {
    const previousGlues = previousRole === null ? this.gluesAfter(previous, token) : previousRole === 'opening';
    const tokenGlues = role === null ? this.gluesBefore(previous, token) : role === 'closing';
    return !previousGlues && !tokenGlues;
  }

  pairKey(a: number, b: number): number {
    return a * this.learned.before.length + b;
  }

  private gluesBefore(previous: string, token: string): boolean {
    const id = this.ids.get(token);
    const side = id === undefined ? UNSURE : this.learned.before[id];
    if (side !== UNSURE) return side === GLUED;
    return CLOSING.has(token) || CJK_PUNCTUATION.has(token) || isCjkPair(previous, token);
  }

  private gluesAfter(token: string, next: string): boolean {
    const id = this.ids.get(token);
    const side = id === undefined ? UNSURE : this.learned.after[id];
    if (side !== UNSURE) return side === GLUED;
    return OPENING.has(token) || CJK_PUNCTUATION.has(token) || isCjkPair(token, next);
  }
}

function isCjkPair(a: string, b: string): boolean {
  return CJK_END.test(a) && CJK_START.test(b);
}

/** Joins tokens one at a time, remembering the previous token and which quotes are open. */
class Joiner {
  private previous: string | null = null; // null at the start of a line
  private previousRole: QuoteRole = null;
  private readonly quotes: QuoteParity;
  /** Set when the text already ends with whitespace: the next token needs no space. */
  suppressSpace = false;

  constructor(private readonly spacing: Spacing) {
    this.quotes = new QuoteParity(spacing.learned.pairedQuotes);
  }

  /** The text for `token`, with the space before it if one belongs there. */
  push(token: string): string {
    const space = this.spaceBefore(token);
    const role = this.quotes.next(token);
    this.previous = token === NEWLINE_TOKEN ? null : token;
    this.previousRole = role;
    this.suppressSpace = false;
    return space ? ` ${token}` : token;
  }

  /** Whether `token`, pushed next, would get a space before it (nothing changes). */
  spaceBefore(token: string): boolean {
    return (
      token !== NEWLINE_TOKEN &&
      this.previous !== null &&
      !this.suppressSpace &&
      this.spacing.space(this.previous, this.previousRole, token, this.quotes.peek(token))
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Fitting

/** Spacing flags of the corpus stream. */
const GLUED_TO_PREVIOUS = 0;
const SPACED_FROM_PREVIOUS = 1;
const LINE_START = 2;

/** Pair exceptions kept at most (the most frequent), so odd corpora cannot bloat the file. */
const MAX_PAIRS = 5000;

/** What one pass over the corpus tells `fit`. Per-token arrays are in order of first appearance. */
interface CorpusCounts {
  tokens: string[];
  counts: number[];
  /** Four numbers per token: spaced before, glued before, spaced after, glued after. */
  sides: number[];
  /** Straight quote marks that alternation places better than their majority (or that never occur). */
  pairedQuotes: Set<string>;
  /** The corpus as token indices, and how each token was joined to the one before. */
  stream: number[];
  flags: number[];
}

function countCorpus(text: string, lowercase: boolean, softWraps: SoftWrapRule | null): CorpusCounts {
  const index = new Map<string, number>();
  const tokens: string[] = [];
  const kinds: number[] = [];
  const counts: number[] = [];
  const sides: number[] = [];
  const stream: number[] = [];
  const flags: number[] = [];
  // How often alternation places the space next to each quote mark correctly.
  const parity = new QuoteParity(STRAIGHT_QUOTES);
  const parityHits = new Map<string, number>();
  const hit = (mark: string, correct: boolean) => parityHits.set(mark, (parityHits.get(mark) ?? 0) + (correct ? 1 : 0));

  let previous = -1;
  let previousRole: QuoteRole = null;
  scan(text, lowercase, (token, spaced) => {
    let i = index.get(token);
    if (i === undefined) {
      i = tokens.length;
      index.set(token, i);
      tokens.push(token);
      kinds.push(kindOf(token));
      counts.push(0);
      sides.push(0, 0, 0, 0);
    }
    counts[i]++;
    stream.push(i);
    flags.push(spaced === null ? LINE_START : spaced ? SPACED_FROM_PREVIOUS : GLUED_TO_PREVIOUS);
    const role = parity.next(token);
    if (spaced === true) {
      sides[4 * previous + 2]++;
      sides[4 * i]++;
    } else if (spaced === false) {
      const [a, b] = [kinds[previous], kinds[i]];
      if (a > b || (a === WORD && b === WORD)) sides[4 * previous + 3]++;
      if (b > a || (a === WORD && b === WORD)) sides[4 * i + 1]++;
    }
    if (spaced !== null) {
      // An opening quote glues to what follows it, a closing one to what precedes it.
      if (previousRole !== null) hit(tokens[previous], spaced === (previousRole === 'closing'));
      if (role !== null) hit(token, spaced === (role === 'opening'));
    }
    previous = i;
    previousRole = role;
  }, softWraps);

  const pairedQuotes = new Set<string>();
  for (const mark of STRAIGHT_QUOTES) {
    const i = index.get(mark);
    const majorityHits =
      i === undefined ? 0 : Math.max(sides[4 * i], sides[4 * i + 1]) + Math.max(sides[4 * i + 2], sides[4 * i + 3]);
    if ((parityHits.get(mark) ?? 0) >= majorityHits) pairedQuotes.add(mark);
  }
  return { tokens, counts, sides, pairedQuotes, stream, flags };
}

/**
 * Replays the corpus through the per-token rule and lists the token pairs it gets wrong more
 * often than right, with the spacing the corpus used most for them.
 */
function learnPairs(spacing: Spacing, vocab: readonly string[], ids: Int32Array, flags: number[]): Map<number, boolean> {
  const quotes = new QuoteParity(spacing.learned.pairedQuotes);
  const wrong = new Uint8Array(ids.length);
  const suspects = new Set<number>();
  let previousRole: QuoteRole = null;
  for (let k = 0; k < ids.length; k++) {
    const role = quotes.next(vocab[ids[k]]);
    if (flags[k] !== LINE_START) {
      const ruled = spacing.ruleSpace(vocab[ids[k - 1]], previousRole, vocab[ids[k]], role);
      if (ruled !== (flags[k] === SPACED_FROM_PREVIOUS)) {
        wrong[k] = 1;
        suspects.add(spacing.pairKey(ids[k - 1], ids[k]));
      }
    }
    previousRole = role;
  }
  // Per suspect pair: [times the rule was wrong, times right, times spaced in the corpus].
  const tally = new Map<number, [number, number, number]>();
  for (let k = 1; k < ids.length; k++) {
    const key = spacing.pairKey(ids[k - 1], ids[k]);
    if (flags[k] === LINE_START || !suspects.has(key)) continue;
    let t = tally.get(key);
    if (t === undefined) tally.set(key, (t = [0, 0, 0]));
    t[wrong[k] ? 0 : 1]++;
    if (flags[k] === SPACED_FROM_PREVIOUS) t[2]++;
  }
  const listed = [...tally].filter(([, [w, r]]) => w > r).sort((x, y) => y[1][0] - x[1][0]);
  return new Map(listed.slice(0, MAX_PAIRS).map(([key, [w, r, spaced]]) => [key, 2 * spaced > w + r]));
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

/** Characters at the end of `before` that `continuation` reads (for its last token and open quotes). */
const CONTINUATION_CONTEXT = 1000;

export class Tokenizer {
  readonly unknownId = UNKNOWN_ID;
  private readonly ids: Map<string, number>;
  private readonly spacing: Spacing;
  /** Ids in code-unit order of their token, built on the first `idsWithPrefix` call. */
  private sortedIds: Int32Array | undefined;

  private constructor(
    readonly options: TokenizerOptions,
    readonly vocab: readonly string[],
    /** Corpus count per id; counts[0] is the total of the tokens left out. */
    readonly counts: readonly number[],
    learned: LearnedSpacing,
    /** The text was hard-wrapped: which single line breaks inside a paragraph read as spaces; null keeps every break. */
    readonly softWrapRule: SoftWrapRule | null = null,
  ) {
    this.ids = new Map(vocab.map((token, id) => [token, id]));
    this.spacing = new Spacing(this.ids, learned);
  }

  /**
   * Counts the tokens of `text` and keeps the most frequent `maxVocab - 1` (id 0 is the unknown
   * token) seen at least `minCount` times; ties go to the token seen first, so the same text
   * always gives the same vocabulary. Also learns the spacing; the tokens left out pool theirs
   * into the unknown token's.
   */
  static fit(text: string, options: Partial<TokenizerOptions> = {}): Tokenizer {
    const opts = checkOptions(
      {
        maxVocab: options.maxVocab ?? DEFAULT_TOKENIZER_OPTIONS.maxVocab,
        minCount: options.minCount ?? DEFAULT_TOKENIZER_OPTIONS.minCount,
        lowercase: options.lowercase ?? DEFAULT_TOKENIZER_OPTIONS.lowercase,
      },
      'The tokenizer option',
    );
    const softWraps = detectSoftWraps(text);
    const corpus = countCorpus(text, opts.lowercase, softWraps);

    const kept = corpus.tokens
      .map((_, i) => i)
      .filter((i) => corpus.counts[i] >= opts.minCount)
      .sort((a, b) => corpus.counts[b] - corpus.counts[a] || a - b)
      .slice(0, opts.maxVocab - 1);
    const idOfIndex = new Int32Array(corpus.tokens.length); // 0 = left out
    kept.forEach((i, k) => (idOfIndex[i] = k + 1));
    const vocab = [UNKNOWN_TOKEN, ...kept.map((i) => corpus.tokens[i])];

    const size = vocab.length;
    const counts = new Array<number>(size).fill(0);
    const sides = new Float64Array(4 * size);
    for (let i = 0; i < corpus.tokens.length; i++) {
      const id = idOfIndex[i];
      counts[id] += corpus.counts[i];
      for (let s = 0; s < 4; s++) sides[4 * id + s] += corpus.sides[4 * i + s];
    }
    const before = new Uint8Array(size);
    const after = new Uint8Array(size);
    for (let id = 0; id < size; id++) {
      before[id] = majority(sides[4 * id], sides[4 * id + 1]);
      after[id] = majority(sides[4 * id + 2], sides[4 * id + 3]);
    }

    const learned = { before, after, pairedQuotes: corpus.pairedQuotes, pairs: new Map<number, boolean>() };
    const rule = new Spacing(new Map(vocab.map((token, id) => [token, id])), learned);
    const ids = Int32Array.from(corpus.stream, (i) => idOfIndex[i]);
    learned.pairs = learnPairs(rule, vocab, ids, corpus.flags);
    return new Tokenizer(opts, vocab, counts, learned, softWraps);
  }

  /** Reads what `toJSON` wrote, checking every part; throws UserError naming what is wrong. */
  static fromJSON(json: unknown): Tokenizer {
    const fail = (problem: string): never => {
      throw new UserError(`tokenizer.json ${problem}.`);
    };
    if (!isRecord(json)) return fail('is not a JSON object');
    if (json.format !== 'seqlab-tokenizer') return fail('is not a SeqLab tokenizer (its "format" is not "seqlab-tokenizer")');
    if (json.version !== 1) return fail(`has version ${JSON.stringify(json.version)}, but this SeqLab reads version 1`);
    if (!isRecord(json.options)) return fail('has no options');
    const options = checkOptions(json.options, 'The tokenizer.json option');
    const { vocab, counts, spacing } = json;
    if (!Array.isArray(vocab) || vocab.length === 0) return fail('has no vocabulary list');
    if (!vocab.every((t): t is string => typeof t === 'string' && t.length > 0)) {
      return fail('has a vocabulary entry that is not a non-empty string');
    }
    if (vocab[0] !== UNKNOWN_TOKEN) return fail(`does not start its vocabulary with the unknown-word token ${UNKNOWN_TOKEN}`);
    if (new Set(vocab).size !== vocab.length) return fail('lists a token twice in its vocabulary');
    if (vocab.length > options.maxVocab) return fail(`has ${vocab.length} tokens, more than its maxVocab of ${options.maxVocab}`);
    if (!Array.isArray(counts) || counts.length !== vocab.length) return fail('does not have one count per vocabulary token');
    if (!counts.every((c): c is number => Number.isSafeInteger(c) && c >= 0)) return fail('has a count that is not a whole number');

    if (!isRecord(spacing)) return fail('has no spacing data');
    const before = parseSides(spacing.before, vocab.length);
    const after = parseSides(spacing.after, vocab.length);
    if (!before || !after) return fail(`has spacing data that is not ${vocab.length} characters of "s", "g" or "-" per side`);
    const quotes = spacing.pairedQuotes;
    if (!Array.isArray(quotes) || !quotes.every((q): q is string => STRAIGHT_QUOTES.has(q))) {
      return fail('has a list of paired quote marks that holds something other than straight quotes');
    }
    const ids = new Map(vocab.map((token, id) => [token, id]));
    const pairs = new Map<number, boolean>();
    for (const [field, space] of [['spacedPairs', true], ['gluedPairs', false]] as const) {
      const list = spacing[field];
      if (!Array.isArray(list)) return fail(`has no ${field} list`);
      for (const pair of list) {
        const a = Array.isArray(pair) && pair.length === 2 ? ids.get(pair[0]) : undefined;
        const b = Array.isArray(pair) && pair.length === 2 ? ids.get(pair[1]) : undefined;
        if (a === undefined || b === undefined) return fail(`has an entry in ${field} that is not two vocabulary tokens`);
        pairs.set(a * vocab.length + b, space);
      }
    }
    if (json.lineBreaks !== undefined && json.lineBreaks !== 'kept' && json.lineBreaks !== 'soft-wraps') {
      return fail('has "lineBreaks" other than "kept" or "soft-wraps"');
    }
    const shortestLine = json.shortestWrappedLine ?? 0;
    if (!Number.isSafeInteger(shortestLine) || (shortestLine as number) < 0) return fail('has a "shortestWrappedLine" that is not a whole number');
    const softWraps = json.lineBreaks === 'soft-wraps' ? { shortestLine: shortestLine as number } : null;
    return new Tokenizer(options, vocab, counts, { before, after, pairedQuotes: new Set(quotes), pairs }, softWraps);
  }

  toJSON(): TokenizerJSON {
    const { before, after, pairedQuotes, pairs } = this.spacing.learned;
    const sides = (values: Uint8Array) => Array.from(values, (v) => SIDE_CHARS[v]).join('');
    const listed = (space: boolean) =>
      [...pairs]
        .filter(([, s]) => s === space)
        .map(([key]): [string, string] => [this.vocab[Math.floor(key / this.vocabSize)], this.vocab[key % this.vocabSize]]);
    return {
      format: 'seqlab-tokenizer',
      version: 1,
      options: { ...this.options },
      lineBreaks: this.softWrapRule ? 'soft-wraps' : 'kept',
      ...(this.softWrapRule ? { shortestWrappedLine: this.softWrapRule.shortestLine } : {}),
      vocab: [...this.vocab],
      counts: [...this.counts],
      spacing: {
        before: sides(before),
        after: sides(after),
        pairedQuotes: [...pairedQuotes],
        spacedPairs: listed(true),
        gluedPairs: listed(false),
      },
    };
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Whether the text was hard-wrapped, so that some single line breaks read as spaces. */
  get softWraps(): boolean {
    return this.softWrapRule !== null;
  }

  idOf(token: string): number {
    return this.ids.get(token) ?? this.unknownId;
  }

  tokenize(text: string): string[] {
    const tokens: string[] = [];
    scan(text, this.options.lowercase, (token) => tokens.push(token), this.softWrapRule);
    return tokens;
  }

  /**
   * The tokens of `text` as `tokenize` gives them, each with where it lies in `text`
   * (code-unit offsets, end exclusive), so a score per token can be shown on the words.
   */
  tokenSpans(text: string): TokenSpan[] {
    const spans: TokenSpan[] = [];
    scan(text, this.options.lowercase, (token, _spaced, { start, end }) => spans.push({ token, start, end }), this.softWrapRule);
    return spans;
  }

  encode(text: string): Int32Array {
    const ids: number[] = [];
    scan(text, this.options.lowercase, (token) => ids.push(this.ids.get(token) ?? this.unknownId), this.softWrapRule);
    return Int32Array.from(ids);
  }

  /** The ids of tokens `tokenize` gave: what `encode` gives for their text, without splitting it again. */
  encodeTokens(tokens: readonly string[]): Int32Array {
    return Int32Array.from(tokens, (token) => this.idOf(token));
  }

  /**
   * Ids of the tokens that start with `prefix` (lower-cased first if the tokenizer folds case),
   * most frequent first; never the unknown token or a line break. A binary search over the
   * tokens in sorted order finds them, so this stays cheap on every keystroke.
   */
  idsWithPrefix(prefix: string): number[] {
    if (this.options.lowercase) prefix = prefix.toLowerCase();
    const sorted = (this.sortedIds ??= this.sortIds());
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.vocab[sorted[mid]] < prefix) low = mid + 1;
      else high = mid;
    }
    const found: number[] = [];
    for (let i = low; i < sorted.length && this.vocab[sorted[i]].startsWith(prefix); i++) found.push(sorted[i]);
    return found.sort((a, b) => a - b);
  }

  decode(ids: ArrayLike<number>): string {
    const tokens = Array.from(ids, (id) => {
      const token = this.vocab[id];
      if (token === undefined) throw new RangeError(`Token id ${id} is outside the vocabulary of ${this.vocabSize}.`);
      return token;
    });
    return this.detokenize(tokens);
  }

  detokenize(tokens: readonly string[]): string {
    const joiner = new Joiner(this.spacing);
    return tokens.map((token) => joiner.push(token)).join('');
  }

  /**
   * The text to append to `before` for these tokens: the space before the first one (or none),
   * then the tokens joined as `detokenize` would. What matters of `before` is its last token and
   * which straight quotes are open; if it already ends with whitespace no space is added.
   */
  continuation(before: string, tokens: readonly string[]): string {
    const joiner = this.joinerAfter(before);
    return tokens.map((token) => joiner.push(token)).join('');
  }

  /** For each of `tokens`: would it be written with a space before it, right after `before`? */
  spacedAfter(before: string, tokens: readonly string[]): boolean[] {
    const joiner = this.joinerAfter(before);
    return tokens.map((token) => joiner.spaceBefore(token));
  }

  /** A joiner that has read the end of `before`. */
  private joinerAfter(before: string): Joiner {
    const joiner = new Joiner(this.spacing);
    scan(before.slice(-CONTINUATION_CONTEXT), this.options.lowercase, (token) => joiner.push(token), this.softWrapRule);
    joiner.suppressSpace = /\s$/.test(before);
    return joiner;
  }

  private sortIds(): Int32Array {
    const ids: number[] = [];
    for (let id = 0; id < this.vocab.length; id++) {
      if (id !== this.unknownId && this.vocab[id] !== NEWLINE_TOKEN) ids.push(id);
    }
    ids.sort((a, b) => (this.vocab[a] < this.vocab[b] ? -1 : 1));
    return Int32Array.from(ids);
  }
}

function majority(spaced: number, glued: number): number {
  if (glued > spaced) return GLUED;
  return spaced > glued ? SPACED : UNSURE;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks option values; `where` starts the error sentence ("The tokenizer option"). */
function checkOptions(options: Record<string, unknown>, where: string): TokenizerOptions {
  const { maxVocab, minCount, lowercase } = options;
  if (typeof maxVocab !== 'number' || !Number.isSafeInteger(maxVocab) || maxVocab < 2) {
    throw new UserError(`${where} maxVocab is ${JSON.stringify(maxVocab)}, but it must be a whole number of at least 2.`);
  }
  if (typeof minCount !== 'number' || !Number.isSafeInteger(minCount) || minCount < 1) {
    throw new UserError(`${where} minCount is ${JSON.stringify(minCount)}, but it must be a whole number of at least 1.`);
  }
  if (typeof lowercase !== 'boolean') {
    throw new UserError(`${where} lowercase is ${JSON.stringify(lowercase)}, but it must be true or false.`);
  }
  return { maxVocab, minCount, lowercase };
}

/** One side of the spacing data, or undefined if it is malformed. */
function parseSides(value: unknown, length: number): Uint8Array | undefined {
  if (typeof value !== 'string' || value.length !== length) return undefined;
  const sides = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const side = SIDE_CHARS.indexOf(value[i]);
    if (side < 0) return undefined;
    sides[i] = side;
  }
  return sides;
}
