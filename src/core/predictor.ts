/**
 * Next-word prediction with a trained model. The predictor is stateful: it remembers the
 * text it has read and the recurrent state after it, so a request whose text extends the
 * last one costs only the new tokens. When the text before the cursor changed elsewhere it
 * re-reads the tail of the text in one pass.
 *
 * It runs the fast path's recurrences (the same kernels training uses) with a batch of one,
 * and computes the output layer only for the state it is asked about.
 */
import * as tf from '@tensorflow/tfjs';
import { AdaptingNetwork, segmentAt, type AdaptationSettings } from './adaptation';
import { makeRecurrence } from './fast/cells';
import { gatherRows, stackSteps } from './fast/layout';
import { FastNetwork } from './fast/network';
import type { LayerState, Recurrence } from './fast/recurrence';
import type { KneserNeyTrigram } from './kneserNey';
import { CACHE_TOKENS, mixDistribution, TokenCache, type MixtureWeights } from './mixture';
import { modelParts } from './model';
import { NEURAL_CACHE_TOKENS, type NeuralCacheSettings } from './neuralCache';
import { NewWords } from './newWords';
import { Random } from './random';
import { blockRepeats, drawToken, type SamplingOptions } from './sampling';
import { isWordLike, NEWLINE_TOKEN, type Tokenizer } from './tokenizer';

/** Characters of text re-read on a full pass: recurrent nets forget far context anyway. */
export const FULL_PASS_CHARACTERS = 4000;

/** Recent states kept as numbers, to resume from when a request's text backs up a little. */
const CHECKPOINTS = 16;

/** Token ids of the read text kept for the trigram's context and the cache. */
const HISTORY_TOKENS = CACHE_TOKENS + 2;

export interface Candidate {
  id: number;
  token: string;
  probability: number;
}

export interface SuggestOptions {
  /** Whole words to add after the one being typed. */
  maxWords: number;
  /**
   * Show a suggestion only when the model gives at least this probability to all of it
   * being right (the product over its words); stop adding words below it.
   */
  minConfidence: number;
  /**
   * The threshold for a ghost at a word start (nothing of the word typed yet), when it
   * differs: a next-word guess is read in full, a completion only glanced at.
   */
  minNextWordConfidence?: number;
}

/**
 * Suggestion settings where nothing else decides: the extension's defaults, and the
 * threshold of a run that fitted none (an older run, or one without validation text).
 */
export const DEFAULT_SUGGEST_OPTIONS: Readonly<SuggestOptions> = { maxWords: 3, minConfidence: 0.2 };

/** What the suggestions mix with the network (src/core/mixture.ts); without it the network suggests alone. */
export interface SuggestionParts {
  kn3: KneserNeyTrigram;
  weights: MixtureWeights;
  /** How the neural cache weighs what it remembers (neuralCache.ts). */
  neuralCache: NeuralCacheSettings;
  /** Share of the probability of <unk> that the document's remembered new words get (newWordSpelling.ts). */
  newWordShare: number;
  /** The network learns from the text it reads (adaptation.ts); absent: it does not. */
  adaptation?: AdaptationSettings;
}

export interface Suggestion {
  /** Text to insert at the cursor: the rest of the word being typed, then whole words. */
  text: string;
  tokens: string[];
  /** Probability of each token given the text before it (the first one given the typed prefix). */
  confidences: number[];
  /**
   * The highest threshold at which a ghost still shows here: the probability of the likeliest
   * cut that could be shown. Fitting a threshold needs only this, not a pass per candidate.
   */
  shownUpTo: number;
}

/** One ghost that could show: the first `tokens` tokens of the continuation, as `text`. */
interface GhostCut {
  tokens: number;
  text: string;
  /** Probability that all of it is right. */
  probability: number;
}

/** The ghosts that could show at one cursor (Predictor.ghosts). */
export interface Ghosts {
  /** The cursor is inside a word: they complete it. */
  partial: boolean;
  /** The likeliest continuation, a token at a time, and the probability of each. */
  tokens: string[];
  confidences: number[];
  cuts: GhostCut[];
}

/** The threshold that applies: a completion's, or a next-word guess's at a word start. */
function thresholdAt(partial: boolean, options: SuggestOptions): number {
  return partial ? options.minConfidence : (options.minNextWordConfidence ?? options.minConfidence);
}

/**
 * The ghost to show of `ghosts` at the options' thresholds, undefined if none is sure enough.
 * A ghost is taken with one key only if all of it is right, so a longer one saves more
 * when it is right and is right less often. Of the cuts whose probability reaches the
 * threshold, it shows the one that saves the most keys on average, P(all of it right) ×
 * (its characters − 1). A ghost of one character saves nothing and is never a cut.
 */
export function pickGhost(ghosts: Ghosts, options: SuggestOptions): Suggestion | undefined {
  const threshold = thresholdAt(ghosts.partial, options);
  let best: GhostCut | undefined;
  let shownUpTo = 0;
  for (const cut of ghosts.cuts) {
    shownUpTo = Math.max(shownUpTo, cut.probability);
    const saved = cut.probability * (cut.text.length - 1);
    if (cut.probability >= threshold && saved > (best ? best.probability * (best.text.length - 1) : 0)) best = cut;
  }
  if (!best) return undefined;
  return { text: best.text, tokens: ghosts.tokens.slice(0, best.tokens), confidences: ghosts.confidences.slice(0, best.tokens), shownUpTo };
}

export interface GenerateOptions extends SamplingOptions {
  words: number;
  seed?: number;
}

/** The recurrent state of every layer after reading some text. Owns its tensors. */
class ReadState {
  constructor(readonly layers: LayerState[]) {}
  get top(): tf.Tensor2D {
    return this.layers[this.layers.length - 1][0];
  }
  /** The numbers of the state, held outside TensorFlow.js (a few hundred per layer). */
  snapshot(): Float32Array[][] {
    return this.layers.map((layer) => layer.map((t) => t.dataSync() as Float32Array));
  }
  static restore(snapshot: Float32Array[][]): ReadState {
    return new ReadState(snapshot.map((layer) => layer.map((values) => tf.tensor2d(values, [1, values.length]))));
  }
  dispose(): void {
    tf.dispose(this.layers.flat());
  }
}

/** The state after the first `length` characters of the read text, `tokens` tokens. */
interface Checkpoint {
  length: number;
  tokens: number;
  snapshot: Float32Array[][];
  /** The document's new words remembered then. */
  newWords: readonly string[];
}

/** Candidates looked at for the first word at a word start, past those that cannot follow a space. */
const FIRST_WORD_CANDIDATES = 8;
/** Tokens whose spacing decides how likely a space comes next: beyond them the probabilities are small, and words. */
const SPACE_CANDIDATES = 20;

export class Predictor {
  private readonly network: FastNetwork;
  private recurrences: Recurrence[];
  /** The network's weights as adapted to the text read (adaptation.ts), when the suggestion model adapts. */
  private readonly adapting: AdaptingNetwork | undefined;
  /**
   * Where the segment the network adapts on next starts (a token position counted from the
   * start of the read text, as `position`), and the state before it, once read.
   */
  private segment: { start: number; state?: Float32Array[][] } = { start: 0 };
  /** A segment read to its end, whose step is due before the next read (learnPending). */
  private due: { ids: number[]; state: Float32Array[][] } | undefined;
  /** Ids dropped from the front of `readIds`: a token's position is this plus its index there. */
  private droppedIds = 0;
  /** Text whose tokens have been read into `state`; always ends at a token boundary. */
  private readText = '';
  private state: ReadState;
  /**
   * States at earlier ends of `readText`, oldest first. A backspace, or a word that
   * tokenizes differently once it grows ("drama'" then "drama's"), makes the text before
   * the cursor a little shorter than what was read; resuming from one of these costs a
   * token or two instead of a full pass.
   */
  private checkpoints: Checkpoint[] = [];
  /** Out-of-vocabulary words of the text read, offered where the network says <unk>. */
  private readonly newWords = new NewWords();
  /** Ids of the tokens of `readText` (the last CACHE_TOKENS + 2 of them): the trigram's context and the cache. */
  private readIds: number[] = [];
  /** The top layer's output after each of `readIds`: what the neural cache remembers. */
  private readOutputs: Float32Array[] = [];
  /**
   * The next-token distribution in `state`, kept while that state is the read one: while a
   * word is typed the text before it stays the same, and so does this.
   */
  private afterRead: { state: ReadState; probabilities: Float32Array } | undefined;
  /** Counts of tokens fed through the network, for tests and benchmarks. */
  readonly stats = { tokensRead: 0, fullPasses: 0, adaptationSteps: 0 };

  constructor(
    model: tf.LayersModel,
    readonly tokenizer: Tokenizer,
    private readonly mixture?: SuggestionParts,
    /** How the network learns from the text it reads; by default as the suggestion model says. */
    adaptation = mixture?.adaptation,
  ) {
    if (adaptation) this.adapting = new AdaptingNetwork(model, adaptation);
    const parts = this.adapting?.parts ?? modelParts(model);
    this.network = new FastNetwork(parts);
    this.recurrences = this.makeRecurrences();
    this.state = this.zeroState();
    this.segment.state = this.state.snapshot();
  }

  /** Tokens read since the read text started (a reset or a full pass). */
  private get position(): number {
    return this.droppedIds + this.readIds.length;
  }

  /** Probabilities of every vocabulary entry coming next after `text`. */
  nextProbabilities(text: string): Float32Array {
    return this.probabilities(this.readUpTo(text), this.readIds);
  }

  /**
   * The k most likely next tokens after `textBefore`. If it ends inside a word, only
   * tokens that start with the typed part, with probabilities renormalised over them.
   */
  topK(textBefore: string, k: number): Candidate[] {
    const { context, partial } = this.splitPartialWord(textBefore);
    return this.rank(this.probabilities(this.readUpTo(context), this.readIds), k, partial);
  }

  /**
   * Ghost text for the cursor at the end of `textBefore`: completes the word being typed,
   * or at a word start offers the next word, then possibly more words and the space after
   * them, up to the end of the line. Undefined when it has nothing sure to offer.
   */
  suggest(textBefore: string, options: SuggestOptions): Suggestion | undefined {
    return pickGhost(this.ghosts(textBefore, options), options);
  }

  /**
   * Every ghost that could show at the end of `textBefore` at the options' thresholds or
   * above: the cuts of the likeliest continuation, as far as it stays that likely. Typing
   * the same text at several thresholds needs them once (typing.ts).
   */
  ghosts(textBefore: string, options: SuggestOptions): Ghosts {
    const { context, partial } = this.splitPartialWord(textBefore);
    let state = this.readUpTo(context);
    const history = this.readIds.slice();
    if (this.afterRead?.state !== state) this.afterRead = { state, probabilities: this.probabilities(state, history) };
    // Only read here, never written: it is kept for the next keystroke.
    let probabilities = this.afterRead.probabilities;
    const tokens: string[] = [];
    const confidences: number[] = [];
    const cuts: GhostCut[] = [];
    const limit = options.maxWords + (partial ? 1 : 0);
    const floor = thresholdAt(partial !== '', options);
    let joint = 1;
    const consider = (text: string, probability: number) => {
      if (text.length >= 2) cuts.push({ tokens: tokens.length, text, probability });
    };
    try {
      while (tokens.length < limit) {
        const next = tokens.length === 0 && !partial ? this.firstWord(probabilities, textBefore) : this.rank(probabilities, 1, tokens.length === 0 ? partial : '')[0];
        if (!next || joint * next.probability < floor || next.token === NEWLINE_TOKEN) break;
        joint *= next.probability;
        tokens.push(next.token);
        confidences.push(next.probability);
        const text = partial
          ? tokens[0].slice(partial.length) + this.tokenizer.continuation(context + tokens[0], tokens.slice(1))
          : this.tokenizer.continuation(textBefore, tokens);
        consider(text, joint);
        if (tokens.length === limit) break;
        const read = this.read([next.id], state);
        if (state !== this.state) state.dispose();
        state = read;
        history.push(next.id);
        probabilities = this.probabilities(state, history);
        // The space before the next word, taken with these words: phone keyboards do so too.
        if (text) consider(`${text} `, joint * this.spaceProbability(textBefore + text, probabilities));
      }
    } finally {
      if (state !== this.state) state.dispose();
    }
    return { partial: partial !== '', tokens, confidences, cuts };
  }

  /**
   * How likely the next token is written after a space, at the end of `text`: the share of
   * the likeliest tokens that would be (not punctuation glued to the word, not a line
   * break), and of the tail beyond them, which is words, the share the likeliest words
   * have spaced ("n't" is glued where "not" is not). After an opening quote or bracket no
   * word is spaced, however many words share the probability.
   */
  private spaceProbability(text: string, probabilities: Float32Array): number {
    const likeliest = this.rank(probabilities, SPACE_CANDIDATES, '');
    const spaced = this.tokenizer.spacedAfter(text, likeliest.map((c) => c.token));
    let spacedShare = 0;
    let words = 0;
    let spacedWords = 0;
    likeliest.forEach((c, i) => {
      if (spaced[i]) spacedShare += c.probability;
      if (!isWordLike(c.token)) return;
      words += c.probability;
      if (spaced[i]) spacedWords += c.probability;
    });
    const tail = likeliest.reduce((p, c) => p - c.probability, 1);
    return spacedShare + tail * (words > 0 ? spacedWords / words : 1);
  }

  /**
   * Continues `prompt` by `words` tokens: at temperature 0 the likeliest (of `beam`
   * continuations followed side by side), else drawn; with `noRepeat`, never repeating a
   * run of that many tokens of the prompt or of what it wrote.
   */
  generate(prompt: string, options: GenerateOptions): { text: string; tokens: string[] } {
    if ((options.beam ?? 1) > 1 && options.temperature <= 0) {
      const tokens = this.beamSearch(prompt, options).map((id) => this.tokenizer.vocab[id]);
      return { text: this.tokenizer.continuation(prompt, tokens), tokens };
    }
    const random = new Random(options.seed ?? 1);
    let state = this.readUpTo(prompt);
    const tokens: string[] = [];
    try {
      const history = this.readIds.slice();
      for (let i = 0; i < options.words; i++) {
        const probabilities = this.probabilities(state, history);
        probabilities[this.tokenizer.unknownId] = 0;
        if (options.noRepeat) blockRepeats(probabilities, history, options.noRepeat);
        const id = drawToken(probabilities, options, random);
        tokens.push(this.tokenizer.vocab[id]);
        history.push(id);
        const next = this.read([id], state);
        if (state !== this.state) state.dispose();
        state = next;
      }
    } finally {
      if (state !== this.state) state.dispose();
    }
    return { text: this.tokenizer.continuation(prompt, tokens), tokens };
  }

  /**
   * The likeliest `words` tokens after `prompt` as far as `beam` continuations followed side
   * by side find: each step extends every one by its likeliest next tokens and keeps the
   * `beam` likeliest of all those, by the probability of the whole continuation.
   */
  private beamSearch(prompt: string, options: GenerateOptions): number[] {
    const width = options.beam!;
    interface Beam { state: ReadState; history: number[]; tokens: number[]; logProbability: number }
    let beams: Beam[] = [{ state: this.readUpTo(prompt), history: this.readIds.slice(), tokens: [], logProbability: 0 }];
    const release = (list: Beam[]) => list.forEach((beam) => beam.state !== this.state && beam.state.dispose());
    try {
      for (let i = 0; i < options.words; i++) {
        const extensions: { from: Beam; id: number; logProbability: number }[] = [];
        for (const beam of beams) {
          const probabilities = this.probabilities(beam.state, beam.history);
          probabilities[this.tokenizer.unknownId] = 0;
          if (options.noRepeat) blockRepeats(probabilities, beam.history, options.noRepeat);
          const best = new TopK(width);
          for (let id = 0; id < probabilities.length; id++) if (probabilities[id] > 0) best.offer(id, probabilities[id]);
          best.ids.forEach((id, k) => extensions.push({ from: beam, id, logProbability: beam.logProbability + Math.log(best.probabilities[k]) }));
        }
        if (extensions.length === 0) break; // nothing but <unk> to write
        extensions.sort((a, b) => b.logProbability - a.logProbability);
        const kept = extensions.slice(0, width).map(({ from, id, logProbability }) => ({
          state: this.read([id], from.state),
          history: [...from.history, id],
          tokens: [...from.tokens, id],
          logProbability,
        }));
        release(beams);
        beams = kept;
      }
      return beams[0].tokens;
    } finally {
      release(beams);
    }
  }

  /**
   * Takes the step of adaptation due, if one is: the engine calls this after answering a
   * keystroke, so the step falls between keystrokes; otherwise the next read takes it
   * first. Returns whether it took one.
   */
  learnPending(): boolean {
    const { due, adapting } = this;
    if (!due || !adapting) return false;
    this.due = undefined;
    const initial = ReadState.restore(due.state);
    try {
      adapting.learn(segmentAt(due.ids, 0, due.ids.length - 1), initial.layers);
    } finally {
      initial.dispose();
    }
    this.stats.adaptationSteps++;
    this.recurrences.forEach((r) => r.dispose());
    this.recurrences = this.makeRecurrences();
    // The wasm backend packs the output kernel for products anew once it has changed: done
    // here, between keystrokes, rather than in the next ghost's first product.
    tf.dispose(this.network.logits(this.state.top));
    // The distribution kept for the state read (afterRead) stays the one before the step, as scoring has it.
    return true;
  }

  /** Forgets the text read so far, and what the network learnt from it. */
  reset(): void {
    this.due = undefined;
    if (this.adapting && this.adapting.steps > 0) {
      this.adapting.reset();
      this.recurrences.forEach((r) => r.dispose());
      this.recurrences = this.makeRecurrences();
    }
    this.forgetText();
  }

  /**
   * Forgets the text read so far but not what the network learnt from it: a full pass
   * (another document, an edit far back) reads from a blank state with the weights the
   * person's writing has taught it.
   */
  private forgetText(): void {
    this.state.dispose();
    this.state = this.zeroState();
    this.readText = '';
    this.readIds = [];
    this.readOutputs = [];
    this.droppedIds = 0;
    this.segment = { start: 0, state: this.state.snapshot() };
    this.newWords.clear();
    this.checkpoints = [];
  }

  dispose(): void {
    this.due = undefined;
    this.state.dispose();
    this.checkpoints = [];
    this.recurrences.forEach((r) => r.dispose());
    this.adapting?.dispose();
  }

  /**
   * Brings the cached state to the end of `text` (which must end at a token boundary)
   * and returns it. Reads only the new tokens when `text` extends the text read before, or
   * a checkpoint of it; otherwise (or when that would read more than a full pass) re-reads
   * the tail of the text.
   */
  private readUpTo(text: string): ReadState {
    if (text === this.readText) return this.state;
    this.learnPending();
    const extends_ = text.startsWith(this.readText) || this.resumeFromCheckpoint(text);
    let newText: string;
    if (extends_ && text.length - this.readText.length <= FULL_PASS_CHARACTERS) {
      newText = text.slice(this.readText.length);
    } else {
      this.forgetText();
      this.stats.fullPasses++;
      newText = tailAtWordBoundary(text, FULL_PASS_CHARACTERS);
    }
    const tokens = this.tokenizer.tokenize(newText);
    const newIds = this.tokenizer.encodeTokens(tokens);
    if (newIds.length > 0) {
      if (this.readText !== '') {
        this.checkpoints.push({ length: this.readText.length, tokens: this.readIds.length, snapshot: this.state.snapshot(), newWords: this.newWords.snapshot() });
      }
      tokens.forEach((token, i) => newIds[i] === this.tokenizer.unknownId && this.newWords.add(token));
      if (this.checkpoints.length > CHECKPOINTS) this.checkpoints.shift();
      this.readAndAdapt(newIds);
      if (this.readIds.length > HISTORY_TOKENS) this.forgetOldestIds();
    }
    this.readText = text;
    return this.state;
  }

  /**
   * Reads `ids` into the state. When the network adapts, a segment of `segmentTokens`
   * tokens is due to be learnt from once the token after it (its last target) comes; that
   * token is read with the weights before the step, and the step is taken before the next
   * read (learnPending): where scoring a text adapts too (adaptation.ts). A read leaves one
   * segment due at most, the last that ends in it, so that a full pass or a paste costs one
   * step, not one per segment; typing brings a token or two per read and skips none.
   */
  private readAndAdapt(ids: Int32Array): void {
    const length = this.adapting?.settings.segmentTokens ?? Infinity;
    let from = 0;
    while (from < ids.length) {
      if (this.position === this.segment.start && !this.segment.state) this.segment.state = this.state.snapshot();
      if (this.position === this.segment.start + length) {
        const offset = this.segment.start - this.droppedIds;
        this.due = { ids: [...this.readIds.slice(offset, offset + length), ids[from]], state: this.segment.state! };
        this.segment = { start: this.position, state: this.state.snapshot() };
      }
      // Read up to the next point where something happens: the segment's start (its state) or its end.
      const { start } = this.segment;
      const until = this.position < start ? start : start + length;
      const to = Math.min(ids.length, from + (until - this.position));
      const outputs: Float32Array[] = [];
      const next = this.read(ids.slice(from, to), this.state, outputs);
      this.readIds.push(...ids.slice(from, to));
      this.readOutputs.push(...outputs);
      this.state.dispose();
      this.state = next;
      from = to;
    }
  }

  /** Moves the state back to the latest checkpoint that `text` extends, if there is one. */
  private resumeFromCheckpoint(text: string): boolean {
    for (let i = this.checkpoints.length - 1; i >= 0; i--) {
      const { length, tokens, snapshot, newWords } = this.checkpoints[i];
      if (!text.startsWith(this.readText.slice(0, length))) continue;
      this.state.dispose();
      this.state = ReadState.restore(snapshot);
      // Words read after the checkpoint were typed over: the document no longer has them.
      this.newWords.restore(newWords);
      this.readText = this.readText.slice(0, length);
      this.readIds.length = tokens;
      this.readOutputs.length = tokens;
      this.checkpoints.length = i;
      // Text after the next segment's start was typed over: its state is read again when reached.
      if (this.position < this.segment.start) this.segment.state = undefined;
      return true;
    }
    return false;
  }

  /**
   * Runs `ids` through the recurrent layers from `from`; returns the new state. With
   * `outputs`, also appends the top layer's output after each id to it.
   */
  private read(ids: ArrayLike<number>, from: ReadState, outputs?: Float32Array[]): ReadState {
    this.stats.tokensRead += ids.length;
    const { layers, top } = tf.tidy(() => {
      let inputs = gatherRows(this.network.parts.embeddings, tf.tensor1d(Int32Array.from(ids), 'int32'));
      const layers = this.recurrences.map((recurrence, layer) => {
        // One matmul projects every new token; only the recurrence runs step by step.
        const run = recurrence.forward(this.network.project(layer, inputs), 1, from.layers[layer], false);
        if (layer < this.recurrences.length - 1 || outputs) inputs = stackSteps(run.outputs);
        return run.state;
      });
      return { layers, top: outputs ? inputs : undefined };
    });
    if (top) {
      const values = top.dataSync() as Float32Array;
      top.dispose();
      const units = this.network.parts.units;
      for (let i = 0; i < ids.length; i++) outputs!.push(values.slice(i * units, (i + 1) * units));
    }
    return new ReadState(layers);
  }

  /** The next-token distribution after `history` (the ids read into `state`): the network's, or the suggestion model's mixture. */
  private probabilities(state: ReadState, history: readonly number[]): Float32Array {
    const probs = tf.tidy(() => tf.softmax(this.network.logits(state.top)));
    const values = probs.dataSync() as Float32Array;
    probs.dispose();
    if (!this.mixture) return values;
    const cache = new TokenCache();
    for (let i = Math.max(0, history.length - CACHE_TOKENS); i < history.length; i++) cache.add(history[i]);
    // The text read pairs each output with the id after it; words suggested ahead are not remembered.
    const from = Math.max(0, this.readIds.length - 1 - NEURAL_CACHE_TOKENS);
    const neural = {
      query: state.top.dataSync(),
      current: history[history.length - 1],
      keys: this.readOutputs.slice(from, -1),
      read: this.readIds.slice(from, -1),
      next: this.readIds.slice(from + 1),
      settings: this.mixture.neuralCache,
    };
    return mixDistribution(values, history, this.mixture.kn3, cache, this.mixture.weights, neural);
  }

  /** Drops the oldest ids, keeping the checkpoints' token counts in step. */
  private forgetOldestIds(): void {
    const drop = this.readIds.length - HISTORY_TOKENS;
    this.droppedIds += drop;
    this.readIds.splice(0, drop);
    this.readOutputs.splice(0, drop);
    this.checkpoints = this.checkpoints.filter((c) => c.tokens >= drop);
    this.checkpoints.forEach((c) => (c.tokens -= drop));
  }

  /**
   * The most likely next word at a word start, of those that can come there: never a line
   * break (a suggestion that starts a new line is no help), and after a typed space never a
   * token written without one (the "." of "century ." would need the space deleted).
   */
  private firstWord(probabilities: Float32Array, textBefore: string): Candidate | undefined {
    const afterSpace = /\s$/.test(textBefore);
    const trimmed = textBefore.trimEnd();
    const first = this.rank(probabilities, FIRST_WORD_CANDIDATES, '').find(
      (c) => c.token !== NEWLINE_TOKEN && (!afterSpace || trimmed === '' || /^\s/.test(this.tokenizer.continuation(trimmed, [c.token]))),
    );
    // A typed space says the next token is one written after a space, so "how sure" means:
    // of those, as with a typed prefix. Otherwise a word after "whale " would count the
    // chance of the "," the space rules out against it, and one after "of the " would not.
    // (After a line break the network has read it as a token, and the space rules out nothing.)
    const typedSpace = textBefore.slice(trimmed.length);
    if (!first || trimmed === '' || !/^[^\S\n]+$/.test(typedSpace)) return first;
    const spaced = Math.max(this.spaceProbability(trimmed, probabilities), first.probability);
    return spaced > 0 ? { ...first, probability: first.probability / spaced } : first;
  }

  /** The recurrences over the current weights: they prepare forms of them, made again after an adaptation step. */
  private makeRecurrences(): Recurrence[] {
    const { parts } = this.network;
    return parts.recurrent.map((w) => makeRecurrence(parts.cell, w, parts.units));
  }

  private zeroState(): ReadState {
    return new ReadState(this.recurrences.map((r) => r.initialState(1)));
  }

  /** The best `k` tokens, never the unknown-word token; restricted to `prefix` if given. */
  private rank(probabilities: Float32Array, k: number, prefix: string): Candidate[] {
    const unknown = this.tokenizer.unknownId;
    const ids = prefix ? this.tokenizer.idsWithPrefix(prefix) : undefined;
    const best = new TopK(k);
    let total = 0;
    // Every suggestion ranks the whole vocabulary several times: plain loops, no object per word.
    if (ids) {
      for (const id of ids) if (id !== unknown) total += best.offer(id, probabilities[id]);
    } else {
      for (let id = 0; id < probabilities.length; id++) if (id !== unknown) total += best.offer(id, probabilities[id]);
    }
    // Never <unk> itself, but the document's own new words in its place: all of its
    // probability for the network alone, the fitted share for the suggestion model.
    for (const { word, probability } of this.newWords.candidates(prefix, probabilities[unknown] * (this.mixture?.newWordShare ?? 1))) {
      total += best.offer(unknown, probability, word);
    }
    const ranked = best.ids.map((id, i) => ({ id, token: best.words[i] ?? this.tokenizer.vocab[id], probability: best.probabilities[i] }));
    // With a typed prefix, "how sure" means: of the words that fit what was typed.
    if (ids && total > 0) ranked.forEach((c) => (c.probability /= total));
    return ranked;
  }

  /**
   * Splits the text before the cursor into the complete tokens and the word being typed
   * (empty when the cursor follows a space or punctuation).
   */
  private splitPartialWord(textBefore: string): { context: string; partial: string } {
    if (!/[\p{L}\p{N}_]$/u.test(textBefore)) return { context: textBefore, partial: '' };
    const tail = textBefore.slice(-64);
    const tokens = this.tokenizer.tokenize(tail);
    const last = tokens[tokens.length - 1] ?? '';
    if (!last || last.length > tail.length) return { context: textBefore, partial: '' };
    return { context: textBefore.slice(0, textBefore.length - last.length), partial: last };
  }
}

/** The end of `text`, at most `limit` characters, starting after whitespace. */
function tailAtWordBoundary(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const tail = text.slice(-limit);
  const space = tail.search(/\s/);
  return space >= 0 ? tail.slice(space + 1) : tail;
}

/** The `k` likeliest of the ids offered, likeliest first; of equals, the one offered first. */
class TopK {
  readonly ids: number[] = [];
  readonly probabilities: number[] = [];
  /** The word of an offer that is not the id's own token (a new word in place of <unk>). */
  readonly words: (string | undefined)[] = [];

  constructor(private readonly k: number) {}

  /** Keeps `id` if it is among the best so far; returns its probability, for totals. */
  offer(id: number, probability: number, word?: string): number {
    const { ids, probabilities, words, k } = this;
    if (probabilities.length === k && !(probability > probabilities[k - 1])) return probability;
    let at = probabilities.length;
    while (at > 0 && probability > probabilities[at - 1]) at--;
    ids.splice(at, 0, id);
    probabilities.splice(at, 0, probability);
    words.splice(at, 0, word);
    if (probabilities.length > k) {
      ids.pop();
      probabilities.pop();
      words.pop();
    }
    return probability;
  }
}
