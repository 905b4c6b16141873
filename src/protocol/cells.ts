/**
 * The cell inspector's contract: what the engine answers to `seqlab/inspectCells`, what
 * `seqlab inspect cells --json` writes, and the messages between the extension and the
 * inspector's webview, with the guards each side runs on what it receives. Plain JSON.
 */
import type { CellType } from './types';

/**
 * What can be looked at per unit and token: the hidden state h, the LSTM's cell state c,
 * and each gate's activation after reading the token. `candidate` is the tanh proposal
 * (LSTM's g, GRU's h̃).
 */
export type CellSignal = 'h' | 'c' | 'input' | 'forget' | 'candidate' | 'output' | 'update' | 'reset';

/** The signals each cell has, in the order a picker lists them. */
export const CELL_SIGNALS: Record<CellType, readonly CellSignal[]> = {
  rnn: ['h'],
  gru: ['h', 'update', 'reset', 'candidate'],
  lstm: ['h', 'c', 'input', 'forget', 'output', 'candidate'],
};

/** How a signal is named for a person. */
export const SIGNAL_LABELS: Record<CellSignal, string> = {
  h: 'hidden state h',
  c: 'cell state c',
  input: 'input gate',
  forget: 'forget gate',
  output: 'output gate',
  candidate: 'candidate',
  update: 'update gate',
  reset: 'reset gate',
};

/** Where a signal's colours turn from one side to the other, and how far from there they saturate. */
export interface HeatScale {
  centre: number;
  halfRange: number;
}

/**
 * Sigmoid gates live in (0, 1), so their colours diverge around 0.5 ("half open"); h and
 * the candidate are tanh, in (−1, 1), around 0; the LSTM's cell state is unbounded, so it
 * saturates at the largest |c| among `values` (the unit's values shown).
 */
export function heatScale(signal: CellSignal, values: ArrayLike<number>): HeatScale {
  if (signal === 'c') {
    let largest = 0;
    for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i]));
    return { centre: 0, halfRange: largest > 0 ? largest : 1 };
  }
  const gate = signal === 'input' || signal === 'forget' || signal === 'output' || signal === 'update' || signal === 'reset';
  return gate ? { centre: 0.5, halfRange: 0.5 } : { centre: 0, halfRange: 1 };
}

/** A value as a signed strength in [−1, 1]: its side of the centre and how far to saturation. */
export function heat(value: number, scale: HeatScale): number {
  return Math.max(-1, Math.min(1, (value - scale.centre) / scale.halfRange));
}

/** The values of one unit of one signal, token by token. */
export function unitValues(inspection: Pick<CellInspection, 'values' | 'units' | 'tokens'>, signal: CellSignal, unit: number): number[] {
  const all = inspection.values[signal];
  if (!all) return [];
  return inspection.tokens.map((_, t) => all[t * inspection.units + unit]);
}

/**
 * Simple facts about the text at each token, each read as its value after the token (as h
 * is): an opening quote mark is already inside the quote, a closing one already outside.
 */
export const TEXT_FEATURES = ['inQuotes', 'inParentheses', 'afterFullStop', 'wordsIntoSentence', 'lineColumn', 'capitalised', 'wordLength'] as const;
export type TextFeature = (typeof TEXT_FEATURES)[number];

export const FEATURE_LABELS: Record<TextFeature, string> = {
  inQuotes: 'inside quotes',
  inParentheses: 'inside parentheses',
  afterFullStop: 'first token after a full stop',
  wordsIntoSentence: 'tokens into the sentence',
  lineColumn: 'position in the line (characters)',
  capitalised: 'capitalised word',
  wordLength: 'word length (characters)',
};

/** One unit and its Pearson correlation with a feature. */
export interface UnitCorrelation {
  unit: number;
  r: number;
}

/** Units ranked by |r| with each feature, per signal; a feature that never varies in the text has an empty list. */
export type CorrelationRanking = Partial<Record<CellSignal, Record<TextFeature, UnitCorrelation[]>>>;

/** A token of the inspected span, by its place in the span's text. */
export interface InspectedToken {
  /** Offsets in `CellInspection.text`; a line break token covers the break. */
  start: number;
  end: number;
  token: string;
}

export interface CellInspection {
  runId: string;
  cell: CellType;
  units: number;
  /** The recurrent layer shown (0-based) and how many the model has. */
  layer: number;
  layers: number;
  /** The inspected text, as given. */
  text: string;
  tokens: InspectedToken[];
  /** Per signal, the values flattened token-major: value of unit u at token t is `values[signal][t * units + u]`. */
  values: Partial<Record<CellSignal, number[]>>;
  /** Per feature, its value at each token of the span. */
  features: Record<TextFeature, number[]>;
  /** The ranking, measured over a longer text than the span (see `rankedOn`). */
  ranking: CorrelationRanking;
  rankedOn: { source: 'validation' | 'document'; tokens: number; description: string };
  /** Tokens read before the span so the state at its start is not blank. */
  contextTokens: number;
}

/** Parameters of `seqlab/inspectCells`. */
export interface InspectCellsParams {
  /** The run to look into; the active model when absent. */
  runId?: string;
  /** The document (from text sync) and the part of it to inspect. */
  uri: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  /** The recurrent layer (0-based); the last one when absent. */
  layer?: number;
}

// ---------------------------------------------------------------- webview messages

/** What was inspected, as the panel names it, so it can be asked again after a window reload. */
export interface CellsRequest {
  params: InspectCellsParams;
  /** The run's short name ("LSTM 19:41") and the document's. */
  label: string;
  source: string;
}

/** extension → inspector */
export type HostToCells =
  /** Show this inspection. */
  | { type: 'show'; inspection: CellInspection; request: CellsRequest }
  /** The inspection could not be made (again): one sentence. */
  | { type: 'error'; message: string };

/** inspector → extension */
export type CellsToHost = { type: 'ready' };

/** What the inspector keeps in its webview state: the picks, and what to inspect again after a reload. */
export interface CellsViewState {
  signal?: CellSignal;
  unit?: number;
  request?: CellsRequest;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ALL_SIGNALS = new Set<string>(Object.values(CELL_SIGNALS).flat());

export function isCellSignal(value: unknown): value is CellSignal {
  return typeof value === 'string' && ALL_SIGNALS.has(value);
}

function isNumberArray(value: unknown, length?: number): value is number[] {
  return Array.isArray(value) && (length === undefined || value.length === length) && value.every((x) => typeof x === 'number');
}

/** The shape the page draws from, checked in full where it would break the drawing. */
export function isCellInspection(value: unknown): value is CellInspection {
  if (!isObject(value) || typeof value.text !== 'string' || !Array.isArray(value.tokens)) return false;
  const { units, tokens } = value;
  if (typeof units !== 'number' || !Number.isInteger(units) || units < 1 || typeof value.cell !== 'string' || !(value.cell in CELL_SIGNALS)) return false;
  const tokensOk = tokens.every((t) => isObject(t) && typeof t.start === 'number' && typeof t.end === 'number' && typeof t.token === 'string');
  const values = value.values;
  const valuesOk = isObject(values) && Object.entries(values).every(([signal, v]) => isCellSignal(signal) && isNumberArray(v, tokens.length * units));
  const features = value.features;
  const featuresOk = isObject(features) && TEXT_FEATURES.every((f) => isNumberArray(features[f], tokens.length));
  return tokensOk && valuesOk && featuresOk && isObject(value.ranking) && isObject(value.rankedOn);
}

function isPosition(value: unknown): boolean {
  return isObject(value) && typeof value.line === 'number' && typeof value.character === 'number';
}

export function isCellsRequest(value: unknown): value is CellsRequest {
  if (!isObject(value) || typeof value.label !== 'string' || typeof value.source !== 'string' || !isObject(value.params)) return false;
  const { uri, range, runId, layer } = value.params;
  return (
    typeof uri === 'string' &&
    isObject(range) &&
    isPosition(range.start) &&
    isPosition(range.end) &&
    (runId === undefined || typeof runId === 'string') &&
    (layer === undefined || typeof layer === 'number')
  );
}

export function isHostToCells(value: unknown): value is HostToCells {
  if (!isObject(value)) return false;
  if (value.type === 'error') return typeof value.message === 'string';
  return value.type === 'show' && isCellsRequest(value.request) && isCellInspection(value.inspection);
}

export function isCellsToHost(value: unknown): value is CellsToHost {
  return isObject(value) && value.type === 'ready';
}

export function isCellsViewState(value: unknown): value is CellsViewState {
  if (!isObject(value)) return false;
  if (value.signal !== undefined && !isCellSignal(value.signal)) return false;
  if (value.unit !== undefined && !(typeof value.unit === 'number' && Number.isInteger(value.unit) && value.unit >= 0)) return false;
  return value.request === undefined || isCellsRequest(value.request);
}
