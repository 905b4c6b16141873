/**
 * The cell inspector's engine: for a span of text, every unit's hidden state (and cell
 * state) and gate activations at each token, the simple features of the text there, and
 * the units ranked by how well they follow each feature over a longer text, so that a
 * person can find the units worth looking at. The values come from the step-by-step
 * reference pass (./unroll.ts), the same numbers the model's layers compute.
 */
import * as tf from '@tensorflow/tfjs';
import {
  CELL_SIGNALS,
  TEXT_FEATURES,
  type CellInspection,
  type CellSignal,
  type CorrelationRanking,
  type TextFeature,
} from '../../protocol/cells';
import { UserError } from '../errors';
import { modelParts, type ModelParts } from '../model';
import type { Tokenizer } from '../tokenizer';
import { rankUnits } from './correlation';
import { textFeatures, type FeatureValues } from './textFeatures';
import { unroll } from './unroll';

/** Per signal, values laid out [token × units]. */
export type SignalValues = Partial<Record<CellSignal, Float32Array>>;

/** Steps run per batch of ops: long enough to amortise the set-up, short enough to keep memory flat. */
const CHUNK_STEPS = 64;
/** Characters read before the span, so its first words are not seen from a blank state. */
export const CONTEXT_CHARACTERS = 2000;
/** Most tokens of the span; more would make a heat map nobody reads and a message of megabytes. */
export const MAX_SPAN_TOKENS = 1500;
/** Tokens of the longer text the ranking is measured on: enough for stable correlations, quick to run. */
export const RANKING_TOKENS = 12000;
/** Lanes read side by side for the ranking (each from a blank state), so it takes fewer steps. */
const RANKING_LANES = 8;
/** Units listed per feature and signal. */
export const TOP_UNITS = 5;

/**
 * Runs `lanes` of token ids side by side through the model and returns one layer's
 * signals. `ids` holds the lanes one after another (lane b is ids[b·steps, (b+1)·steps)),
 * and so does the result: the value at token i is at row i, as the features are. It
 * yields to the event loop between chunks, so the engine answers suggestions while a
 * ranking reads thousands of tokens.
 */
export async function traceSignals(parts: ModelParts, ids: Int32Array, lanes: number, layer: number): Promise<SignalValues> {
  const steps = ids.length / lanes;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`${ids.length} tokens do not make ${lanes} lanes.`);
  const { units, cell } = parts;
  const signals = CELL_SIGNALS[cell];
  const out: SignalValues = Object.fromEntries(signals.map((s) => [s, new Float32Array(ids.length * units)]));
  let state: tf.Tensor2D[][] | undefined;
  for (let from = 0; from < steps; from += CHUNK_STEPS) {
    if (from > 0) await new Promise((resolve) => setImmediate(resolve));
    const length = Math.min(CHUNK_STEPS, steps - from);
    const chunk = new Int32Array(lanes * length);
    for (let b = 0; b < lanes; b++) chunk.set(ids.subarray(b * steps + from, b * steps + from + length), b * length);
    const previous = state;
    const { stacked, next } = tf.tidy(() => {
      const trace = unroll(parts, { ids: chunk, batch: lanes, steps: length }, { initial: previous });
      const shown = trace.layers[layer];
      const series: Record<CellSignal, tf.Tensor2D[] | undefined> = {
        h: shown.h,
        c: shown.c,
        input: shown.gates.input,
        forget: shown.gates.forget,
        output: shown.gates.output,
        candidate: shown.gates.candidate,
        update: shown.gates.update,
        reset: shown.gates.reset,
      };
      return {
        // [lanes, steps, units] per signal.
        stacked: signals.map((s) => tf.stack(series[s]!, 1)),
        next: trace.layers.map((l) => (l.c ? [l.h[length - 1], l.c[length - 1]] : [l.h[length - 1]])),
      };
    });
    previous?.flat().forEach((t) => t.dispose());
    state = next;
    // Read outside tidy: a tidy that returns typed arrays walks every element (DESIGN.md §3).
    signals.forEach((signal, k) => {
      const data = stacked[k].dataSync() as Float32Array;
      stacked[k].dispose();
      const target = out[signal]!;
      for (let b = 0; b < lanes; b++) {
        target.set(data.subarray(b * length * units, (b + 1) * length * units), (b * steps + from) * units);
      }
    });
  }
  state?.flat().forEach((t) => t.dispose());
  return out;
}

/** The units that follow each feature best, for every signal, over `text` (its first RANKING_TOKENS tokens). */
export async function rankOnText(parts: ModelParts, tokenizer: Tokenizer, text: string, layer: number): Promise<{ ranking: CorrelationRanking; tokens: number }> {
  const spans = tokenizer.tokenSpans(text);
  const lanes = Math.max(1, Math.min(RANKING_LANES, Math.floor(spans.length / CHUNK_STEPS)));
  const steps = Math.floor(Math.min(spans.length, RANKING_TOKENS) / lanes);
  const used = spans.slice(0, steps * lanes);
  if (used.length < 2) return { ranking: {}, tokens: 0 };
  const features = textFeatures(used, text);
  const ids = tokenizer.encodeTokens(used.map((s) => s.token));
  const values = await traceSignals(parts, ids, lanes, layer);
  const ranking: CorrelationRanking = {};
  for (const [signal, v] of Object.entries(values) as [CellSignal, Float32Array][]) ranking[signal] = rankUnits(v, parts.units, features, TOP_UNITS);
  return { ranking, tokens: used.length };
}

/** A ranking and the text it was measured on. */
export interface RankedUnits {
  ranking: CorrelationRanking;
  rankedOn: CellInspection['rankedOn'];
}

/** What a ranking is measured on: a text, and whether it is the run's held-out text or the document. */
export interface RankingText {
  text: string;
  source: 'validation' | 'document';
  description: string;
}

/** Ranks a model's units (of `layer`, the last by default) on `on`; the part worth caching, as it does not depend on the span. */
export async function rankModelUnits(model: tf.LayersModel, tokenizer: Tokenizer, on: RankingText, layer?: number): Promise<RankedUnits> {
  const parts = modelParts(model);
  const { ranking, tokens } = await rankOnText(parts, tokenizer, on.text, checkLayer(parts, layer));
  return { ranking, rankedOn: { source: on.source, description: on.description, tokens } };
}

/** The layer asked for (0-based), or the last; one sentence if the model has no such layer. */
function checkLayer(parts: ModelParts, layer: number | undefined): number {
  const layers = parts.recurrent.length;
  const chosen = layer ?? layers - 1;
  if (!Number.isInteger(chosen) || chosen < 0 || chosen >= layers) {
    throw new UserError(`The model has ${layers} recurrent layer${layers === 1 ? '' : 's'}; choose a layer from 1 to ${layers}.`);
  }
  return chosen;
}

export interface InspectRequest {
  runId: string;
  model: tf.LayersModel;
  tokenizer: Tokenizer;
  /** The whole text the span is part of, and the span's offsets in it. */
  text: string;
  spanStart: number;
  spanEnd: number;
  /** The units ranked on a longer text (rankModelUnits), for the same layer. */
  ranked: RankedUnits;
  /** 0-based; the last recurrent layer when absent. */
  layer?: number;
}

/** Everything the inspector shows for one span (see CellInspection). */
export async function inspectCells(request: InspectRequest): Promise<CellInspection> {
  const parts = modelParts(request.model);
  const layer = checkLayer(parts, request.layer);
  const { text, spanStart, spanEnd, tokenizer } = request;
  // The span is read with the text before it, tokenized together, so the state and the
  // features (an open quote, the line's start) at its first word are what they are there.
  const from = contextStart(text, spanStart);
  const spans = tokenizer.tokenSpans(text.slice(from, spanEnd)).map((s) => ({ ...s, start: s.start + from, end: s.end + from }));
  const context = spans.findIndex((s) => s.start >= spanStart);
  const spanTokens = context < 0 ? [] : spans.slice(context);
  if (spanTokens.length === 0) throw new UserError('The text to inspect has no words; select some text.');
  if (spanTokens.length > MAX_SPAN_TOKENS) {
    throw new UserError(`The text to inspect has ${spanTokens.length} tokens; select at most ${MAX_SPAN_TOKENS}.`);
  }
  const all = await traceSignals(parts, tokenizer.encodeTokens(spans.map((s) => s.token)), 1, layer);
  const units = parts.units;
  const values: CellInspection['values'] = {};
  for (const [signal, v] of Object.entries(all) as [CellSignal, Float32Array][]) {
    values[signal] = Array.from(v.subarray(context * units), round);
  }
  const features = featureArrays(textFeatures(spans, text), context);
  return {
    runId: request.runId,
    cell: parts.cell,
    units,
    layer,
    layers: parts.recurrent.length,
    text: text.slice(spanStart, spanEnd),
    tokens: spanTokens.map((s) => ({ token: s.token, start: s.start - spanStart, end: s.end - spanStart })),
    values,
    features,
    ...request.ranked,
    contextTokens: context,
  };
}

/** Where the text read before the span starts: up to CONTEXT_CHARACTERS back, at a whitespace so no word is cut. */
function contextStart(text: string, offset: number): number {
  const from = Math.max(0, offset - CONTEXT_CHARACTERS);
  if (from === 0) return 0;
  const space = text.slice(from, offset).search(/\s/);
  return space >= 0 ? from + space : offset;
}

/** The features of the tokens from `first` on, as plain arrays. */
function featureArrays(features: FeatureValues, first: number): Record<TextFeature, number[]> {
  return Object.fromEntries(TEXT_FEATURES.map((f) => [f, Array.from(features[f].subarray(first))])) as Record<TextFeature, number[]>;
}

/** Three decimals, as the page shows them: more than a colour can show, and a message a third the size of full floats. */
function round(value: number): number {
  return Math.round(value * 1e3) / 1e3;
}
