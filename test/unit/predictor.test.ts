import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { DEMO_CONFIG, DEMO_TEXT } from '../../src/cli/commands';
import { resolveTrainConfig } from '../../src/core/config';
import { buildModel } from '../../src/core/model';
import { Predictor, type Suggestion, type SuggestionParts } from '../../src/core/predictor';
import { prepareText, trainRun } from '../../src/core/run';
import { fileHandler, loadRun } from '../../src/core/store';
import { trainModel } from '../../src/core/train';
import { NEWLINE_TOKEN } from '../../src/core/tokenizer';
import { CELL_TYPES } from '../../src/protocol/types';
import { makeTempDir, maxAbsDifference, mobyDickChapter, useWasm } from './helpers';

let root: string;
before(async () => {
  await useWasm();
  root = await makeTempDir('predictor');
});
after(() => fs.rm(root, { recursive: true, force: true }));

/** Probabilities after the last token of `ids`, from the stock layers model. */
function layersNextProbabilities(model: tf.LayersModel, ids: Int32Array): Float32Array {
  const output = tf.tidy(() => {
    const all = model.predict(tf.tensor2d(ids, [1, ids.length], 'int32')) as tf.Tensor3D;
    return tf.squeeze(tf.slice(all, [0, ids.length - 1, 0], [1, 1, -1]));
  });
  const values = output.dataSync() as Float32Array;
  output.dispose();
  return values;
}

const PROMPT = mobyDickChapter(2).slice(0, 400);

for (const cell of CELL_TYPES) {
  describe(`predictor with a saved two-layer ${cell}`, () => {
    let dir: string;
    before(async () => {
      const config = resolveTrainConfig({ cell, layers: 2, embedding: 16, units: 24, seqLen: 16, epochs: 1, dropout: 0.1 });
      const summary = await trainRun({ text: mobyDickChapter(1), sources: [], name: 'Loomings', config, runsDir: root, runName: cell });
      dir = summary.modelDir;
    });

    it('gives the same next-word probabilities as tf.loadLayersModel on the saved files', async () => {
      const plain = await tf.loadLayersModel(fileHandler(dir));
      const run = await loadRun(dir);
      const predictor = new Predictor(run.model, run.tokenizer);
      const expected = layersNextProbabilities(plain, run.tokenizer.encode(PROMPT));
      const actual = predictor.nextProbabilities(PROMPT);
      assert.ok(maxAbsDifference(actual, expected) < 1e-5, `max difference ${maxAbsDifference(actual, expected)}`);
      assert.ok(Math.abs(actual.reduce((a, b) => a + b, 0) - 1) < 1e-4);
      predictor.dispose();
      plain.dispose();
      run.model.dispose();
    });

    it('computes the same function as the stock layers on large random weights', async () => {
      // Trained a little, gates sit near 0.5 and a swapped gate would go unnoticed.
      const run = await loadRun(dir);
      const random = run.model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', i + 1));
      run.model.setWeights(random);
      tf.dispose(random);
      const predictor = new Predictor(run.model, run.tokenizer);
      const expected = layersNextProbabilities(run.model, run.tokenizer.encode(PROMPT));
      const actual = predictor.nextProbabilities(PROMPT);
      assert.ok(maxAbsDifference(actual, expected) < 1e-5, `max difference ${maxAbsDifference(actual, expected)}`);
      predictor.dispose();
      run.model.dispose();
    });

    it('gives at every keystroke, backspaces included, the ghost a fresh predictor gives', async () => {
      const run = await loadRun(dir);
      assert.ok(run.suggestion, 'the run fitted a suggestion model');
      const stateful = new Predictor(run.model, run.tokenizer, run.suggestion);
      const options = { maxWords: 3, minConfidence: 0.05 };
      // Typing 60 characters, deleting 12 of them, and typing on.
      const lengths = [...Array.from({ length: 60 }, (_, i) => i + 1), ...Array.from({ length: 12 }, (_, i) => 59 - i), ...Array.from({ length: 40 }, (_, i) => 48 + i)];
      for (const length of lengths) {
        const text = PROMPT.slice(0, length);
        const fresh: Predictor = new Predictor(run.model, run.tokenizer, run.suggestion);
        const expected: Suggestion | undefined = fresh.suggest(text, options);
        const actual = stateful.suggest(text, options);
        fresh.dispose();
        assert.equal(actual?.text, expected?.text, `after ${JSON.stringify(text)}`);
        if (actual && expected) assert.ok(maxAbsDifference(actual.confidences, expected.confidences) < 1e-4);
      }
      stateful.dispose();
      run.model.dispose();
    });

    it('reads only new tokens as text grows and matches a full pass', async () => {
      const run = await loadRun(dir);
      const stateful = new Predictor(run.model, run.tokenizer);
      const words = PROMPT.split(' ');
      let text = '';
      let last: Float32Array = new Float32Array();
      for (const word of words) {
        text += word + ' ';
        last = stateful.nextProbabilities(text);
      }
      assert.equal(stateful.stats.fullPasses, 0);
      assert.equal(stateful.stats.tokensRead, run.tokenizer.encode(text).length);
      const fresh = new Predictor(run.model, run.tokenizer);
      assert.ok(maxAbsDifference(last, fresh.nextProbabilities(text)) < 1e-5);
      // An edit before the cursor is not an extension: one full pass brings it back in line.
      const edited = 'Once ' + text;
      assert.ok(maxAbsDifference(stateful.nextProbabilities(edited), fresh.nextProbabilities(edited)) < 1e-5);
      assert.equal(stateful.stats.fullPasses, 1);
      const tensors = tf.memory().numTensors;
      stateful.nextProbabilities(edited + 'and then ');
      stateful.suggest(edited + 'and th', { maxWords: 3, minConfidence: 0 });
      stateful.generate(edited, { words: 5, temperature: 0.7, seed: 3 });
      assert.equal(tf.memory().numTensors, tensors, 'prediction leaked tensors');
      stateful.dispose();
      fresh.dispose();
      run.model.dispose();
    });
  });
}

/**
 * A GRU trained the demo's way (no regularisers, 100 epochs) on `text`, which it then
 * knows by heart; disposed after the suite.
 */
function predictorThatKnows(text: string, epochs?: number): () => Predictor {
  let predictor: Predictor;
  let model: tf.LayersModel;
  before(async () => {
    const config = resolveTrainConfig({ ...DEMO_CONFIG, cell: 'gru', ...(epochs ? { epochs } : {}) });
    const prepared = prepareText(text, config, 'known');
    model = buildModel({ ...config, vocabSize: prepared.tokenizer.vocabSize }, config.seed);
    await trainModel(model, prepared.split, config);
    predictor = new Predictor(model, prepared.tokenizer);
  });
  after(() => {
    predictor.dispose();
    model.dispose();
  });
  return () => predictor;
}

describe('suggestions and generation from a model that knows its text', () => {
  const known = predictorThatKnows(DEMO_TEXT);

  it('completes the word being typed, then adds whole words', () => {
    const suggestion = known().suggest('This is the first document.\nThis document is the sec', { maxWords: 1, minConfidence: 0.2 });
    assert.ok(suggestion, 'no suggestion');
    assert.equal(suggestion.tokens[0], 'second');
    assert.equal(suggestion.text, 'ond document');
  });

  it('only offers words that start with what was typed', () => {
    const [best] = known().topK('This is the first document.\nAnd this is the th', 3);
    assert.ok(best.token.startsWith('th'), best.token);
    for (const candidate of known().topK('This is the first document.\nAnd this is the zq', 3)) {
      assert.ok(candidate.token.startsWith('zq'));
    }
  });

  it('stops adding words where the model is unsure, and at a line end', () => {
    const suggestion = known().suggest('And this is the third', { maxWords: 5, minConfidence: 0.5 });
    assert.ok(suggestion);
    assert.equal(suggestion.text, ' one.');
    assert.equal(known().suggest('Is this the first document', { maxWords: 5, minConfidence: 0.999999 }), undefined);
  });

  it('says up to which threshold a ghost shows, at word starts and inside words', () => {
    for (const before of ['This is the ', 'This document is the sec', 'And this is the third ', 'Is this the first ']) {
      const atWordStart = before.endsWith(' ');
      const options = (threshold: number) => ({ maxWords: 3, minConfidence: atWordStart ? 0.9 : threshold, minNextWordConfidence: atWordStart ? threshold : undefined });
      const { shownUpTo } = known().suggest(before, options(0)) ?? assert.fail(`nothing at all after ${JSON.stringify(before)}`);
      assert.ok(shownUpTo > 0 && shownUpTo <= 1, String(shownUpTo));
      assert.ok(known().suggest(before, options(shownUpTo)), `shown at ${shownUpTo} after ${JSON.stringify(before)}`);
      assert.equal(known().suggest(before, options(shownUpTo * 1.0001)), undefined, `hidden above ${shownUpTo}`);
    }
  });

  it('shows no ghost of one character: taking it would save no key', () => {
    // The model is sure of "." and then of a line break, where a suggestion ends.
    assert.ok(known().nextProbabilities('And this is the third one')[known().tokenizer.idOf('.')] > 0.5);
    assert.equal(known().suggest('And this is the third one', { maxWords: 5, minConfidence: 0.5 }), undefined);
  });

  it("completes a word outside the vocabulary that the document used before", () => {
    const before = 'This is the Zorblatt document. And this is the first Zorblatt. Is this Zor';
    assert.equal(known().tokenizer.idOf('Zorblatt'), known().tokenizer.unknownId, 'the name is new to the model');
    const suggestion = known().suggest(before, { maxWords: 0, minConfidence: 0.5 });
    assert.equal(suggestion?.text, 'blatt');
    // A prefix that no word of the document or the vocabulary has gets nothing.
    assert.equal(known().suggest('This is the first Qx', { maxWords: 0, minConfidence: 0 }), undefined);
  });

  it('generates the same words greedily every time', () => {
    const a = known().generate('This is', { words: 5, temperature: 0 });
    assert.equal(a.tokens.length, 5);
    assert.deepEqual(known().generate('This is', { words: 5, temperature: 0 }), a);
    assert.match(a.text, /^ \S/);
  });

  it('never writes the same three tokens twice with noRepeat 3, where greedy text loops', () => {
    const prompt = 'This is';
    const promptTokens = ['This', 'is'];
    const repeatedTriples = (tokens: string[]) => {
      const seen = new Set<string>();
      let repeats = 0;
      for (let i = 0; i + 3 <= tokens.length; i++) {
        const triple = tokens.slice(i, i + 3).join(' ');
        if (seen.has(triple)) repeats++;
        seen.add(triple);
      }
      return repeats;
    };
    // A model of a four-line text has few ways to go on: its likeliest words soon go round in a loop.
    const looping = known().generate(prompt, { words: 40, temperature: 0 });
    assert.ok(repeatedTriples([...promptTokens, ...looping.tokens]) > 0, `greedy text did not loop: ${looping.text}`);
    const free = known().generate(prompt, { words: 40, temperature: 0, noRepeat: 3 });
    assert.equal(free.tokens.length, 40);
    assert.equal(repeatedTriples([...promptTokens, ...free.tokens]), 0, free.text);
    // The rule only steps in where a repeat would come: up to there the two agree.
    const firstRepeat = looping.tokens.findIndex((_, i) => repeatedTriples([...promptTokens, ...looping.tokens.slice(0, i + 1)]) > 0);
    assert.deepEqual(free.tokens.slice(0, firstRepeat), looping.tokens.slice(0, firstRepeat));
    assert.notEqual(free.tokens[firstRepeat], looping.tokens[firstRepeat]);
  });

  /** log P(tokens | prompt) under the network, a token at a time. */
  const logProbability = (prompt: string, tokens: string[]) => {
    const { tokenizer } = known();
    let text = prompt;
    let total = 0;
    for (const token of tokens) {
      total += Math.log(known().nextProbabilities(text)[tokenizer.idOf(token)]);
      text += tokenizer.continuation(text, [token]);
    }
    return total;
  };

  it('with a beam of one, writes the likeliest word each time; wider, as likely a continuation or more, holding no tensors after', () => {
    const greedy = known().generate('This is', { words: 12, temperature: 0, noRepeat: 3 });
    assert.deepEqual(known().generate('This is', { words: 12, temperature: 0, noRepeat: 3, beam: 1 }), greedy);
    const tensors = tf.memory().numTensors;
    for (const prompt of ['This is', 'Is this the', 'And this']) {
      const plain = known().generate(prompt, { words: 8, temperature: 0 });
      const wide = known().generate(prompt, { words: 8, temperature: 0, beam: 4 });
      assert.equal(wide.tokens.length, 8);
      assert.ok(logProbability(prompt, wide.tokens) >= logProbability(prompt, plain.tokens) - 1e-4, `${wide.text} against ${plain.text}`);
    }
    assert.equal(tf.memory().numTensors, tensors, 'every continuation\'s state is released');
  });
});

describe('beam search', () => {
  /** After "we" comes "go" (4 times in 7) then one of four places, or "stay" (3 in 7) and always "here". */
  const TEXT = Array.from({ length: 6 }, () => ['we go home.', 'we go out.', 'we go west.', 'we go east.', 'we stay here.', 'we stay here.', 'we stay here.'].join('\n')).join('\n');
  const known = predictorThatKnows(TEXT, 40);

  it('writes the likeliest pair of words of all, where the likeliest first word leads nowhere sure', () => {
    const { tokenizer } = known();
    const prompt = `${TEXT}\nwe`;
    const greedy = known().generate(prompt, { words: 2, temperature: 0 });
    const beam = known().generate(prompt, { words: 2, temperature: 0, beam: tokenizer.vocabSize });
    // Every pair the model could write, scored one by one.
    const first = known().nextProbabilities(prompt);
    let best = { tokens: [] as string[], probability: 0 };
    tokenizer.vocab.forEach((one, a) => {
      if (a === tokenizer.unknownId) return;
      const second = known().nextProbabilities(prompt + tokenizer.continuation(prompt, [one]));
      tokenizer.vocab.forEach((two, b) => {
        if (b !== tokenizer.unknownId && first[a] * second[b] > best.probability) best = { tokens: [one, two], probability: first[a] * second[b] };
      });
    });
    assert.deepEqual(greedy.tokens.slice(0, 1), ['go'], 'the likeliest word is "go", so the test means something');
    assert.deepEqual(best.tokens, ['stay', 'here']);
    assert.deepEqual(beam.tokens, best.tokens);
    // Two continuations side by side are enough here: "go" and "stay" are both kept after the first word.
    assert.deepEqual(known().generate(prompt, { words: 2, temperature: 0, beam: 2 }).tokens, best.tokens);
  });
});

/** Sentences where "century" is nearly always followed by "." and every "." by a line break. */
const CENTURY_TEXT = [
  'It was the end of the century.',
  'Nobody had seen such a century.',
  'The bells rang in the new century.',
  'A new century and a new hope.',
  'They wrote about the century.',
  'Machines changed the century.',
].join('\n');

describe('next-word suggestions at a word start', () => {
  let model: tf.LayersModel;
  let prepared: ReturnType<typeof prepareText>;
  before(async () => {
    const config = resolveTrainConfig({ ...DEMO_CONFIG, cell: 'gru' });
    prepared = prepareText(CENTURY_TEXT, config, 'century');
    model = buildModel({ ...config, vocabSize: prepared.tokenizer.vocabSize }, config.seed);
    await trainModel(model, prepared.split, config);
  });
  after(() => model.dispose());

  it('offers the document\'s new words with the fitted share of the probability of <unk>', () => {
    const share = 0.3;
    const predictor = new Predictor(model, prepared.tokenizer, { kn3: prepared.ngrams.kn3!, weights: { network: 0.6, kn3: 0.3, cache: 0.1, neuralCache: 0 }, neuralCache: { flatness: 1, evidence: 1 }, newWordShare: share });
    try {
      const before = 'Zorblatt wrote about the century.\nZorblatt wrote about the century.\nThen ';
      assert.equal(prepared.tokenizer.idOf('Zorblatt'), prepared.tokenizer.unknownId, 'the name is new to the model');
      const unknown = predictor.nextProbabilities(before)[prepared.tokenizer.unknownId];
      const offered = predictor.topK(before, prepared.tokenizer.vocabSize).find((c) => c.token === 'Zorblatt');
      assert.ok(offered, 'the remembered name is a candidate');
      // Its part of the new words read: the name twice among all the unknown words of the text.
      const newWords = prepared.tokenizer.tokenize(before).filter((t) => prepared.tokenizer.idOf(t) === prepared.tokenizer.unknownId);
      const expected = share * unknown * (2 / newWords.length);
      assert.ok(Math.abs(offered.probability - expected) < 1e-6, `${offered.probability} against ${expected}`);
    } finally {
      predictor.dispose();
    }
  });

  const mixtures: [string, () => SuggestionParts | undefined][] = [
    ['the network alone', () => undefined],
    ['the network mixed with KN3 and the document caches', () => ({ kn3: prepared.ngrams.kn3!, weights: { network: 0.4, kn3: 0.3, cache: 0.2, neuralCache: 0.1 }, neuralCache: { flatness: 1, evidence: 1 }, newWordShare: 0.2 })],
  ];
  for (const [name, parts] of mixtures) {
    it(`never offers a token that glues to the word before the typed space (${name})`, () => {
      const predictor = new Predictor(model, prepared.tokenizer, parts());
      try {
        const context = 'They wrote about the century';
        const probabilities = predictor.nextProbabilities(context);
        const best = probabilities.indexOf(Math.max(...probabilities));
        assert.equal(prepared.tokenizer.vocab[best], '.', 'the model expects "." after "century", so the rule is tested');
        const suggestion = predictor.suggest(`${context} `, { maxWords: 3, minConfidence: 0 });
        assert.ok(suggestion, 'with minConfidence 0 a word that can follow a space is offered');
        assert.notEqual(suggestion.tokens[0], '.');
        assert.notEqual(suggestion.tokens[0], NEWLINE_TOKEN);
        // What is inserted after the typed space starts a word: no "century ." and no space deleted.
        assert.match(suggestion.text, /^[\p{L}\p{N}]/u, JSON.stringify(suggestion.text));
      } finally {
        predictor.dispose();
      }
    });

    it(`after a typed space, is as sure of a word as it is among the tokens a space can come before (${name})`, () => {
      const predictor = new Predictor(model, prepared.tokenizer, parts());
      try {
        const context = 'They wrote about the century';
        const probabilities = predictor.nextProbabilities(context);
        const { tokenizer } = prepared;
        // The share of the tokens written after a space, from the tokenizer's own spacing, over the whole vocabulary.
        let spaced = 0;
        probabilities.forEach((p, id) => {
          if (id !== tokenizer.unknownId && tokenizer.vocab[id] !== NEWLINE_TOKEN && /^\s/.test(tokenizer.continuation(context, [tokenizer.vocab[id]]))) spaced += p;
        });
        assert.ok(spaced < 0.8, `"." and line breaks take a good share after "century" (${spaced} spaced), so the rule is tested`);
        const suggestion = predictor.suggest(`${context} `, { maxWords: 1, minConfidence: 0 });
        assert.ok(suggestion, 'with minConfidence 0 a word is offered');
        const word = probabilities[tokenizer.idOf(suggestion.tokens[0])];
        // The twenty likeliest tokens are counted one by one and the rest in proportion, so nearly exactly.
        assert.ok(Math.abs(suggestion.confidences[0] - word / spaced) < 0.02 * (word / spaced), `${suggestion.confidences[0]} against ${word / spaced} (${word} unconditioned)`);
      } finally {
        predictor.dispose();
      }
    });

    it(`never starts a suggestion with a line break (${name})`, () => {
      const predictor = new Predictor(model, prepared.tokenizer, parts());
      try {
        const context = 'They wrote about the century.';
        const probabilities = predictor.nextProbabilities(context);
        const best = probabilities.indexOf(Math.max(...probabilities));
        assert.equal(prepared.tokenizer.vocab[best], NEWLINE_TOKEN, 'the model expects a line break after ".", so the rule is tested');
        for (const before of [context, `${context} `]) {
          const suggestion = predictor.suggest(before, { maxWords: 3, minConfidence: 0 });
          assert.ok(suggestion, `a suggestion after ${JSON.stringify(before)}`);
          assert.notEqual(suggestion.tokens[0], NEWLINE_TOKEN);
          assert.doesNotMatch(suggestion.text, /^\s*\n/, JSON.stringify(suggestion.text));
        }
      } finally {
        predictor.dispose();
      }
    });
  }
});

describe('the space after a suggested word', () => {
  /** Lines where "cat" is followed by one of twelve verbs (unsure) but always by a space (sure), and each verb by ".". */
  const VERBS = ['sat', 'ran', 'ate', 'hid', 'won', 'fled', 'slept', 'purred', 'jumped', 'waited', 'stayed', 'yawned'];
  const TEXT = Array.from({ length: 6 }, () => VERBS.map((verb) => `the cat ${verb}.`).join('\n')).join('\n');
  const known = predictorThatKnows(TEXT, 40);

  it('comes with the word when the next word is unsure but a space before it is not', () => {
    const suggestion = known().suggest(`${TEXT}\nthe ca`, { maxWords: 3, minConfidence: 0.5 });
    assert.equal(suggestion?.text, 't ');
    assert.deepEqual(suggestion?.tokens, ['cat']);
  });

  it('does not come where punctuation follows the word', () => {
    const suggestion = known().suggest(`${TEXT}\nthe cat purr`, { maxWords: 3, minConfidence: 0.5 });
    assert.equal(suggestion?.text, 'ed.');
  });

  it('is not added past the last word allowed', () => {
    assert.equal(known().suggest(`${TEXT}\nthe c`, { maxWords: 0, minConfidence: 0.5 })?.text, 'at');
  });
});

describe('the space after an opening quote', () => {
  /** Paragraphs that open with a quote and one of 30 words: the quote is sure, the word is not, and no space ever follows the quote. */
  const WORDS = Array.from({ length: 30 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`);
  const TEXT = Array.from({ length: 3 }, () => WORDS.map((word) => `"${word}," she said.`).join('\n\n')).join('\n\n');
  const known = predictorThatKnows(TEXT, 40);

  it('is never suggested, however spread the words after the quote are', () => {
    const suggestion = known().suggest(`${TEXT}\n\n`, { maxWords: 3, minConfidence: 0.1, minNextWordConfidence: 0.1 });
    // The quote alone saves no key and is not shown; with its word it is unsure. A space after it would be wrong.
    assert.ok(suggestion === undefined || !/^" /.test(suggestion.text), JSON.stringify(suggestion));
  });
});
