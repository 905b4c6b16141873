/**
 * The surprisal lens as plain JSON, shared by the engine, the extension and the CLI: how
 * surprised the active model is by each word of a document, and the shading buckets every
 * side draws it with, so the editor, the hover and `seqlab inspect surprisal` agree.
 */

/** One of the model's guesses at a position. */
export interface SurprisalGuess {
  token: string;
  probability: number;
}

/** One token of the document and what the model paid for it. */
export interface SurprisalToken {
  /** UTF-16 offsets in the document text: [start, end). A line break token covers its \n, \r\n or \r. */
  start: number;
  end: number;
  /**
   * −ln p(token | the text before it) under the network, in nats; for a word outside the
   * vocabulary the <unk> token's share. Null for a token that is read but not predicted
   * (the first of the document).
   */
  nats: number | null;
  /** A word outside the vocabulary: also pays `spellingNats` for its letters when the run has a spelling model. */
  unknown: boolean;
  /** What spelling the unknown word costs (the run's character model); null for known words or without spelling.json. */
  spellingNats: number | null;
  /** 1 = the model's first guess; among the real words (never <unk>). Null for unknown words and the first token. */
  rank: number | null;
}

/** What the lens needs to draw a document. The guesses come per token on request (SurprisalGuessesResult). */
export interface SurprisalResult {
  uri: string;
  /** The document version the figures are for. */
  version: number;
  runId: string;
  tokens: SurprisalToken[];
  /** Σ nats over the predicted tokens (the network's, as evaluation totals them) and their count. */
  totalNats: number;
  predicted: number;
  milliseconds: number;
}

export interface SurprisalParams {
  uri: string;
}

export interface SurprisalGuessesParams {
  uri: string;
  version: number;
  /** Index into SurprisalResult.tokens. */
  index: number;
}

export interface SurprisalGuessesResult {
  /** The model's most likely real words at this position, most likely first. */
  guesses: SurprisalGuess[];
  /** The network's probability of <unk> there: what an unknown word was scored with. */
  unknownProbability: number;
}

/**
 * Upper bounds in nats of the shading buckets; a token above the last is in the last
 * bucket. Fixed, so a colour means the same in every document: < 2 nats is p > 0.14 (an
 * expected word), ≥ 8 nats is p < 0.0003 (a real surprise).
 */
export const SURPRISAL_BUCKET_LIMITS = [2, 4, 6, 8] as const;
export const SURPRISAL_BUCKETS = SURPRISAL_BUCKET_LIMITS.length + 1;

/** The bucket (0 = least surprised … SURPRISAL_BUCKETS − 1) of a token's total nats. */
export function surprisalBucket(nats: number): number {
  const index = SURPRISAL_BUCKET_LIMITS.findIndex((limit) => nats < limit);
  return index < 0 ? SURPRISAL_BUCKETS - 1 : index;
}

/** What a token cost in all: its network nats plus, for an unknown word, its spelling. Null when not predicted. */
export function totalTokenNats(token: Pick<SurprisalToken, 'nats' | 'spellingNats'>): number | null {
  return token.nats === null ? null : token.nats + (token.spellingNats ?? 0);
}

/** "0–2", "2–4" … "≥ 8": each bucket's range in nats, for legends. */
export function surprisalBucketLabel(bucket: number): string {
  const low = bucket === 0 ? 0 : SURPRISAL_BUCKET_LIMITS[bucket - 1];
  return bucket >= SURPRISAL_BUCKET_LIMITS.length ? `≥ ${low}` : `${low}–${SURPRISAL_BUCKET_LIMITS[bucket]}`;
}

/**
 * The buckets' background colours on a light background (the SVG of the CLI, and the
 * light-theme defaults of the editor colours `seqlab.surprisal0Background` … in
 * package.json, which a test keeps equal): one warm hue, stronger with surprise, so the
 * text stays readable on every step.
 */
export const SURPRISAL_LIGHT_COLOURS = ['#fff3d633', '#ffd98a66', '#ffb05c80', '#ff7a4a99', '#e8333399'] as const;
