/**
 * The cell inspector: the per-token values are what the model's own layers compute, the
 * text features are right on small texts made by hand, and the correlation ranking finds a
 * unit planted to track quotes.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { inspectCells, rankModelUnits, rankOnText, traceSignals } from '../../src/core/inspect/cells';
import { unitCorrelations } from '../../src/core/inspect/correlation';
import { textFeatures } from '../../src/core/inspect/textFeatures';
import { buildModel, modelParts } from '../../src/core/model';
import { Tokenizer, NEWLINE_TOKEN } from '../../src/core/tokenizer';
import { CELL_SIGNALS, heat, heatScale, isCellsViewState, isHostToCells } from '../../src/protocol/cells';
import { CELL_TYPES, type CellType } from '../../src/protocol/types';
import { mobyDickChapter, useWasm } from './helpers';

before(async () => {
  await useWasm();
});

/** The features of `text`, by token, with the tokens, for readable assertions. */
function featuresOf(text: string) {
  const tokenizer = Tokenizer.fit(text, { minCount: 1 });
  const spans = tokenizer.tokenSpans(text);
  return { tokens: spans.map((s) => s.token), features: textFeatures(spans, text) };
}

/** The feature's value at each token, as "token=value" for the tokens where it is 1 (or all). */
function marked(text: string, feature: 'inQuotes' | 'inParentheses' | 'afterFullStop' | 'capitalised'): string[] {
  const { tokens, features } = featuresOf(text);
  return tokens.filter((_, i) => features[feature][i] === 1);
}

describe('text features', () => {
  it('marks a quote as open from its opening mark to its closing one, across a single line break', () => {
    const text = 'He said "call me\nIshmael" and left. Then “more words” came.';
    assert.deepEqual(marked(text, 'inQuotes'), ['"', 'call', 'me', NEWLINE_TOKEN, 'Ishmael', '“', 'more', 'words']);
  });

  it('closes a quote or parenthesis left open at a paragraph break', () => {
    const text = 'She said "never (mind\n\nthe rest" of it.';
    assert.deepEqual(marked(text, 'inQuotes'), ['"', 'never', '(', 'mind', NEWLINE_TOKEN, '"', 'of', 'it', '.']);
    assert.deepEqual(marked(text, 'inParentheses'), ['(', 'mind', NEWLINE_TOKEN]);
  });

  it('tracks nested parentheses and sentence starts', () => {
    const text = 'A (b (c) d) e. F g! H';
    assert.deepEqual(marked(text, 'inParentheses'), ['(', 'b', '(', 'c', ')', 'd']);
    assert.deepEqual(marked(text, 'afterFullStop'), ['F', 'H']);
    assert.deepEqual(marked(text, 'capitalised'), ['A', 'F', 'H']);
    const { features } = featuresOf(text);
    // A ( b ( c ) d ) e . | F g ! | H
    assert.deepEqual(Array.from(features.wordsIntoSentence), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 0]);
  });

  it('counts the column in characters from the line start, and word lengths', () => {
    const text = 'ab cde\n  fg h';
    const { tokens, features } = featuresOf(text);
    assert.deepEqual(tokens, ['ab', 'cde', NEWLINE_TOKEN, 'fg', 'h']);
    assert.deepEqual(Array.from(features.lineColumn), [0, 3, 0, 2, 5]);
    assert.deepEqual(Array.from(features.wordLength), [2, 3, 0, 2, 1]);
  });
});

describe('heat colours', () => {
  it('centre gates on half open, h on 0, and c on the largest |c| shown', () => {
    assert.deepEqual(heatScale('forget', [0.1, 0.9]), { centre: 0.5, halfRange: 0.5 });
    assert.deepEqual(heatScale('h', [0.1, 0.9]), { centre: 0, halfRange: 1 });
    assert.deepEqual(heatScale('c', [0.5, -2.5, 1]), { centre: 0, halfRange: 2.5 });
    assert.equal(heat(0.75, heatScale('input', [])), 0.5);
    assert.equal(heat(-5, heatScale('h', [])), -1);
  });
});

describe('correlation', () => {
  it('is Pearson r: 1 for a copy, −1 for a negated scaled copy, 0 for a flat unit, NaN for a flat feature', () => {
    const feature = Float32Array.from([0, 1, 1, 0, 2, 5]);
    const units = 4;
    const values = new Float32Array(feature.length * units);
    const noise = [0.3, -0.1, 0.2, 0.5, -0.4, 0.1];
    feature.forEach((f, t) => values.set([f, 3 - 2 * f, 7, f + noise[t]], t * units));
    const r = unitCorrelations(values, units, feature);
    assert.ok(Math.abs(r[0] - 1) < 1e-6 && Math.abs(r[1] + 1) < 1e-6 && r[2] === 0);
    // The fourth by the textbook formula.
    const x = Array.from(feature);
    const y = x.map((f, t) => f + noise[t]);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const [mx, my] = [mean(x), mean(y)];
    const cov = x.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0);
    const expected = cov / Math.sqrt(x.reduce((s, v) => s + (v - mx) ** 2, 0) * y.reduce((s, v) => s + (v - my) ** 2, 0));
    assert.ok(Math.abs(r[3] - expected) < 1e-5, `${r[3]} vs ${expected}`);
    assert.ok(unitCorrelations(values, units, new Float32Array(feature.length).fill(1)).every(Number.isNaN));
  });
});

/** h of recurrent layer `layer` for every token, from the stock TF.js layers: [batch, steps, units]. */
function layerSequence(model: tf.LayersModel, ids: Int32Array, batch: number, layer: number): Float32Array {
  const recurrent = model.layers.filter((l) => ['SimpleRNN', 'GRU', 'LSTM'].includes(l.getClassName()))[layer];
  const probe = tf.model({ inputs: model.inputs, outputs: recurrent.output as tf.SymbolicTensor });
  const out = tf.tidy(() => probe.predict(tf.tensor2d(ids, [batch, ids.length / batch], 'int32')) as tf.Tensor);
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return values;
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** x·W + h·U + b of gate block `block`, by hand from the first layer's weights, for the token `id` read after state `h`. */
function preActivations(parts: ReturnType<typeof modelParts>, id: number, h: number[]): (block: number, unit: number) => number {
  const x = parts.embeddings.arraySync()[id];
  const W = parts.recurrent[0].kernel.arraySync();
  const U = parts.recurrent[0].recurrentKernel.arraySync();
  const b = parts.recurrent[0].bias.arraySync();
  return (block, unit) => {
    const col = block * parts.units + unit;
    return x.reduce((s, v, k) => s + v * W[k][col], 0) + h.reduce((s, v, k) => s + v * U[k][col], 0) + b[col];
  };
}

describe('per-token values', () => {
  const text = mobyDickChapter(1);
  const tokenizer = Tokenizer.fit(text, { minCount: 2 });
  const ids = tokenizer.encode(text).slice(0, 2 * 150); // two lanes of 150: across chunk boundaries
  const model = (cell: CellType, layers = 1) =>
    buildModel({ cell, vocabSize: tokenizer.vocabSize, embedding: 12, units: 10, layers, dropout: 0 }, 7);

  for (const cell of CELL_TYPES) {
    it(`${cell}: h equals the stock layer's returned sequence, on every layer, in lanes`, async () => {
      const m = model(cell, 2);
      const parts = modelParts(m);
      for (const layer of [0, 1]) {
        const traced = await traceSignals(parts, ids, 2, layer);
        assert.deepEqual(Object.keys(traced), [...CELL_SIGNALS[cell]]);
        const difference = maxDifference(traced.h!, layerSequence(m, ids, 2, layer));
        assert.ok(difference < 1e-5, `${cell} layer ${layer}: ${difference}`);
      }
      m.dispose();
    });
  }

  /** The first two tokens through a fresh model, and the second step's pre-activations by hand. */
  const twoSteps = async (cell: CellType) => {
    const m = model(cell);
    const parts = modelParts(m);
    const traced = await traceSignals(parts, ids.slice(0, 2), 1, 0);
    const pre = preActivations(parts, ids[1], Array.from(traced.h!.subarray(0, parts.units)));
    return { m, units: parts.units, traced, pre };
  };

  it('lstm: a gate recomputed by hand from the weights at the second token matches', async () => {
    const { m, units, traced, pre } = await twoSteps('lstm');
    const c0 = Array.from(traced.c!.subarray(0, units));
    for (let u = 0; u < units; u++) {
      const [input, forget, candidate, output] = [sigmoid(pre(0, u)), sigmoid(pre(1, u)), Math.tanh(pre(2, u)), sigmoid(pre(3, u))];
      const c1 = forget * c0[u] + input * candidate;
      const got = (signal: 'input' | 'forget' | 'candidate' | 'output' | 'c' | 'h') => traced[signal]![units + u];
      assert.ok(Math.abs(got('forget') - forget) < 1e-5 && Math.abs(got('input') - input) < 1e-5);
      assert.ok(Math.abs(got('candidate') - candidate) < 1e-5 && Math.abs(got('output') - output) < 1e-5);
      assert.ok(Math.abs(got('c') - c1) < 1e-5 && Math.abs(got('h') - output * Math.tanh(c1)) < 1e-5);
    }
    m.dispose();
  });

  it('gru: the reset and update gates recomputed by hand at the second token match', async () => {
    const { m, units, traced, pre } = await twoSteps('gru');
    for (let u = 0; u < units; u++) {
      assert.ok(Math.abs(traced.update![units + u] - sigmoid(pre(0, u))) < 1e-5);
      assert.ok(Math.abs(traced.reset![units + u] - sigmoid(pre(1, u))) < 1e-5);
    }
    m.dispose();
  });

  it('inspects a span as the whole text reads it: the state carries in from the words before', async () => {
    const m = model('lstm');
    const short = text.slice(0, 1500);
    const spanStart = short.indexOf(' ', 900) + 1;
    const spanEnd = short.indexOf(' ', 1200);
    const inspection = await inspectCells({
      runId: 'r',
      model: m,
      tokenizer,
      text: short,
      spanStart,
      spanEnd,
      ranked: await rankModelUnits(m, tokenizer, { text, source: 'document', description: 'Loomings' }),
    });
    const span = short.slice(spanStart, spanEnd);
    assert.equal(inspection.text, span);
    for (const t of inspection.tokens) assert.equal(span.slice(t.start, t.end), t.token);
    const all = tokenizer.encode(short.slice(0, spanEnd));
    assert.equal(inspection.contextTokens + inspection.tokens.length, all.length);
    const reference = layerSequence(m, all, 1, 0).subarray(inspection.contextTokens * 10);
    assert.ok(maxDifference(inspection.values.h!, reference) < 6e-4); // sent with three decimals
    assert.ok(inspection.rankedOn.tokens > 1000);
    assert.equal(inspection.ranking.forget?.capitalised.length, 5);

    // What the page accepts: this inspection, but not one whose values do not fit its tokens.
    const request = { params: { uri: 'file:///a.txt', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 9 } } }, label: 'LSTM', source: 'a.txt' };
    assert.ok(isHostToCells(JSON.parse(JSON.stringify({ type: 'show', inspection, request }))));
    const cut = { ...inspection, values: { ...inspection.values, forget: inspection.values.forget!.slice(1) } };
    assert.equal(isHostToCells({ type: 'show', inspection: cut, request }), false);
    assert.equal(isCellsViewState({ signal: 'forget', unit: -1 }), false);
    assert.ok(isCellsViewState({ signal: 'forget', unit: 3, request }));
    m.dispose();
  });
});

describe('ranking', () => {
  it('finds a unit planted to hold "inside quotes" at the top, with r near 1', async () => {
    // A text of random words with quoted stretches (curly quotes say which end they are).
    const words = ['the', 'sea', 'whale', 'ship', 'said', 'and', 'a', 'of', 'to', 'Ahab'];
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const parts: string[] = [];
    let open = false;
    for (let i = 0; i < 6000; i++) {
      if (random() < 0.08) {
        parts.push(open ? '”' : '“');
        open = !open;
      }
      parts.push(words[Math.floor(random() * words.length)]);
    }
    const text = parts.join(' ');
    const tokenizer = Tokenizer.fit(text, { minCount: 1 });
    const m = buildModel({ cell: 'rnn', vocabSize: tokenizer.vocabSize, embedding: 2, units: 8, layers: 1, dropout: 0 }, 3);
    const PLANTED = 5;
    // Word vectors: “ → (1, 0), ” → (0, 1), every other token (0, 0).
    const embedding = new Float32Array(tokenizer.vocabSize * 2);
    embedding[tokenizer.idOf('“') * 2] = 1;
    embedding[tokenizer.idOf('”') * 2 + 1] = 1;
    // The planted unit is a latch: h' = tanh(3h + 10·open − 10·close − 1) has two stable
    // states, ≈ −1 (outside) and ≈ 0.95 (inside); the other units keep their random weights.
    const [, kernelRandom, recurrentRandom, biasRandom] = m.getWeights();
    const kernel = kernelRandom.arraySync() as number[][];
    const recurrent = recurrentRandom.arraySync() as number[][];
    const bias = biasRandom.arraySync() as number[];
    kernel[0][PLANTED] = 10;
    kernel[1][PLANTED] = -10;
    for (let k = 0; k < 8; k++) {
      recurrent[k][PLANTED] = k === PLANTED ? 3 : 0;
      recurrent[PLANTED][k] = k === PLANTED ? 3 : 0;
    }
    bias[PLANTED] = -1;
    const recurrentLayer = m.layers[1];
    m.layers[0].setWeights([tf.tensor2d(embedding, [tokenizer.vocabSize, 2])]);
    recurrentLayer.setWeights([tf.tensor2d(kernel), tf.tensor2d(recurrent), tf.tensor1d(bias)]);
    const { ranking, tokens } = await rankOnText(modelParts(m), tokenizer, text, 0);
    assert.ok(tokens > 5000);
    const [best, next] = ranking.h!.inQuotes;
    assert.equal(best.unit, PLANTED);
    assert.ok(best.r > 0.95, `r = ${best.r}`);
    // Random recurrent weights can echo a quote for a while; none holds it as the latch does.
    assert.ok(Math.abs(next.r) < best.r - 0.3, `the runner-up ${next.unit} has r = ${next.r}`);
    m.dispose();
  });
});
