/**
 * The surprisal lens: what the network paid for each token of a text, in nats, with its
 * best guesses there and the real word's rank. It scores exactly as evaluation does
 * (src/core/scoring.ts): the same tokenization, the text cut into the same lanes by
 * `evaluationBatches`, the recurrent state carried from each batch to the next, so the
 * nats of a text's tokens add up to evaluation's total on it. Every position's logits
 * come from one batched pass (LanguageNetwork.inferenceLogits); no per-token loop.
 *
 * Unknown words are scored as evaluation scores them: the network's probability of
 * <unk>, and, where the run has a spelling model, the nats to spell the word letter by
 * letter (src/core/spelling.ts), kept apart so both totals can be read.
 */
import * as tf from '@tensorflow/tfjs';
import { evaluationBatches, type Batch } from '../dataset';
import { toTimeMajor } from '../fast/layout';
import { rankAmongWords } from '../fast/loss';
import type { LayerState } from '../fast/recurrence';
import { modelParts } from '../model';
import { makeNetwork } from '../network';
import type { SpellingModel } from '../spelling';
import { UNKNOWN_ID, type Tokenizer, type TokenSpan } from '../tokenizer';
import type { SurprisalGuess, SurprisalToken } from '../../protocol/surprisal';

/** Guesses kept per position: what the hover shows. */
export const SURPRISAL_GUESSES = 5;

export interface SurprisalOptions {
  /** Window length and lanes, as the run evaluates (its config's seqLen and batch). */
  seqLen: number;
  batch: number;
  /** The run's spelling model: unknown words also pay for their letters. */
  spelling?: Pick<SpellingModel, 'nats'>;
  /**
   * Called between batches. The engine yields to its event loop there, so suggestions
   * are answered during a long document, and throws to abandon a stale computation.
   */
  between?: () => Promise<void>;
}

/**
 * The figures of every token of a text, held compactly (a 200 KB text has ~40k tokens):
 * per token its span, network nats, rank, and the ids and probabilities of its guesses.
 */
export class SurprisalMap {
  constructor(
    readonly tokenizer: Tokenizer,
    readonly spans: readonly TokenSpan[],
    readonly ids: Int32Array,
    /** Per token: −ln p; NaN for the first token, which is read and not predicted. */
    readonly nats: Float64Array,
    /** Per token: 1-based rank among the real words; 0 where there is none (unknown word, first token). */
    readonly ranks: Int32Array,
    /** Per token: nats to spell an unknown word; NaN for known words or without a spelling model. */
    readonly spellingNats: Float64Array,
    /** Per token, `guessesPerToken` ids and probabilities, most likely first. */
    readonly guessIds: Int32Array,
    readonly guessProbabilities: Float32Array,
    /** Per token: the network's probability of <unk> at that position. */
    readonly unknownProbabilities: Float32Array,
    readonly guessesPerToken: number,
  ) {}

  get length(): number {
    return this.spans.length;
  }

  /** Σ network nats over the predicted tokens: evaluation's loss × tokens on the same text. */
  get totalNats(): number {
    let total = 0;
    for (let i = 1; i < this.nats.length; i++) total += this.nats[i];
    return total;
  }

  get predicted(): number {
    return Math.max(this.spans.length - 1, 0);
  }

  token(index: number): SurprisalToken {
    const { start, end } = this.spans[index];
    const unknown = this.ids[index] === this.tokenizer.unknownId;
    const nats = Number.isNaN(this.nats[index]) ? null : this.nats[index];
    const spelling = this.spellingNats[index];
    return {
      start,
      end,
      nats,
      unknown,
      spellingNats: Number.isNaN(spelling) ? null : spelling,
      rank: this.ranks[index] > 0 ? this.ranks[index] : null,
    };
  }

  tokens(): SurprisalToken[] {
    return this.spans.map((_, i) => this.token(i));
  }

  /** The model's best guesses at token `index` (empty for the first token). */
  guesses(index: number): SurprisalGuess[] {
    const guesses: SurprisalGuess[] = [];
    if (index === 0) return guesses;
    for (let k = 0; k < this.guessesPerToken; k++) {
      const at = index * this.guessesPerToken + k;
      guesses.push({ token: this.tokenizer.vocab[this.guessIds[at]], probability: this.guessProbabilities[at] });
    }
    return guesses;
  }

  /** The token whose span holds `offset` (or ends at it), by binary search; undefined between tokens. */
  indexAt(offset: number): number | undefined {
    let low = 0;
    let high = this.spans.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const span = this.spans[mid];
      if (offset < span.start) high = mid - 1;
      else if (offset > span.end) low = mid + 1;
      else return mid;
    }
    return undefined;
  }
}

/** Scores every token of `text` under `model`, in one batched pass carrying the state as evaluation does. */
export async function computeSurprisal(model: tf.LayersModel, tokenizer: Tokenizer, text: string, options: SurprisalOptions): Promise<SurprisalMap> {
  const spans = tokenizer.tokenSpans(text);
  const ids = tokenizer.encodeTokens(spans.map((s) => s.token));
  const n = ids.length;
  const guessesPerToken = Math.min(SURPRISAL_GUESSES, Math.max(tokenizer.vocabSize - 1, 0));
  const nats = new Float64Array(n).fill(NaN);
  const ranks = new Int32Array(n);
  const guessIds = new Int32Array(n * guessesPerToken);
  const guessProbabilities = new Float32Array(n * guessesPerToken);
  const unknownProbabilities = new Float32Array(n);
  const network = makeNetwork(modelParts(model));
  let state: LayerState[] | undefined;
  try {
    for (const batch of evaluationBatches(ids, options.seqLen, options.batch)) {
      await options.between?.();
      const { logits, state: next } = network.inferenceLogits(batch, batch.continues ? state : undefined);
      tf.dispose(state?.flat());
      state = next;
      const figures = positionFigures(logits, batch, guessesPerToken);
      // Rows are time-major (t·rows + r); target t of lane r is token starts[r] + t + 1.
      for (let t = 0; t < batch.seqLen; t++) {
        for (let r = 0; r < batch.rows; r++) {
          const row = t * batch.rows + r;
          const token = batch.starts![r] + t + 1;
          nats[token] = -figures.logProbabilities[row];
          unknownProbabilities[token] = figures.unknownProbabilities[row];
          ranks[token] = figures.ranks[row];
          for (let k = 0; k < guessesPerToken; k++) {
            guessIds[token * guessesPerToken + k] = figures.guessIds[row * guessesPerToken + k];
            guessProbabilities[token * guessesPerToken + k] = figures.guessProbabilities[row * guessesPerToken + k];
          }
        }
      }
    }
  } finally {
    tf.dispose(state?.flat());
  }
  const spellingNats = new Float64Array(n).fill(NaN);
  if (options.spelling) {
    for (let i = 1; i < n; i++) if (ids[i] === tokenizer.unknownId) spellingNats[i] = options.spelling.nats(spans[i].token);
  }
  return new SurprisalMap(tokenizer, spans, ids, nats, ranks, spellingNats, guessIds, guessProbabilities, unknownProbabilities, guessesPerToken);
}

/** Per row of a batch's logits: the target's log-probability, its rank, <unk>'s probability, the best guesses. */
interface PositionFigures {
  logProbabilities: Float64Array;
  ranks: Int32Array;
  unknownProbabilities: Float32Array;
  guessIds: Int32Array;
  guessProbabilities: Float32Array;
}

/**
 * Reads the logits [N, V] once (and disposes them) and walks each row in plain
 * JavaScript: its log-normaliser, the target's rank and the best guesses. Whole-matrix
 * TF.js ops would do the same in several passes, and wasm's broadcast comparison for the
 * rank alone took 90 ms a batch (256 × 2.7k), 15 times this loop.
 */
function positionFigures(logits: tf.Tensor2D, batch: Batch, guesses: number): PositionFigures {
  const [rows, vocab] = logits.shape;
  const values = logits.dataSync() as Float32Array;
  logits.dispose();
  const targets = toTimeMajor(batch.targets, batch.rows, batch.seqLen);
  const figures: PositionFigures = {
    logProbabilities: new Float64Array(rows),
    ranks: new Int32Array(rows),
    unknownProbabilities: new Float32Array(rows),
    guessIds: new Int32Array(rows * guesses),
    guessProbabilities: new Float32Array(rows * guesses),
  };
  const best = new Int32Array(guesses);
  for (let r = 0; r < rows; r++) {
    const row = r * vocab;
    const normaliser = logNormaliser(values, row, vocab);
    figures.logProbabilities[r] = values[row + targets[r]] - normaliser;
    figures.unknownProbabilities[r] = Math.exp(values[row + UNKNOWN_ID] - normaliser);
    // Ranked as evaluation's accuracy ranks (fast/loss.ts): among the real words, ties to the lower id.
    if (targets[r] !== UNKNOWN_ID) figures.ranks[r] = rankAmongWords(values, row, vocab, targets[r]) + 1;
    topWords(values, row, vocab, best);
    for (let k = 0; k < guesses; k++) {
      figures.guessIds[r * guesses + k] = best[k];
      figures.guessProbabilities[r * guesses + k] = Math.exp(values[row + best[k]] - normaliser);
    }
  }
  return figures;
}

/** log Σ exp over values[from, from + count), shifted by the maximum so nothing overflows. */
function logNormaliser(values: Float32Array, from: number, count: number): number {
  let max = -Infinity;
  for (let j = 0; j < count; j++) if (values[from + j] > max) max = values[from + j];
  let sum = 0;
  for (let j = 0; j < count; j++) sum += Math.exp(values[from + j] - max);
  return max + Math.log(sum);
}

/** Fills `best` with the ids of the largest real-word values of the row (never <unk>), largest first, ties to the lower id. */
function topWords(values: Float32Array, from: number, count: number, best: Int32Array): void {
  const k = best.length;
  let filled = 0;
  for (let j = UNKNOWN_ID + 1; j < count; j++) {
    const v = values[from + j];
    if (filled === k && v <= values[from + best[k - 1]]) continue;
    let at = filled < k ? filled++ : k - 1;
    while (at > 0 && values[from + best[at - 1]] < v) {
      best[at] = best[at - 1];
      at--;
    }
    best[at] = j;
  }
}
