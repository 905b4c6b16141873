/**
 * Peak memory of training on the whole novel with the default settings (vocabulary up to
 * 10,000 words): a number of fast training batches over the full token stream, then the
 * complete validation pass. It runs first in the benchmark, so the process's peak resident
 * set so far is this run's (plus Node and TensorFlow.js themselves).
 */
import { resolveTrainConfig } from '../core/config';
import { evaluationBatches, trainingBatches } from '../core/dataset';
import { buildModel } from '../core/model';
import { Random } from '../core/random';
import { prepareText } from '../core/run';
import { scoreBatches } from '../core/scoring';
import { makeTrainer } from '../core/train';

export interface MemoryFigures {
  peakRssMiB: number;
  vocabSize: number;
  trainTokens: number;
  validationTokens: number;
  batches: number;
  batchesPerEpoch: number;
  /** Fast training speed at the default settings on the full vocabulary. */
  tokensPerSecond: number;
}

const MiB = 1024 * 1024;

export async function trainingMemory(text: string, batches: number): Promise<MemoryFigures> {
  const config = resolveTrainConfig({});
  const { tokenizer, split } = prepareText(text, config, 'Moby Dick');
  const model = buildModel({ ...config, vocabSize: tokenizer.vocabSize }, config.seed);
  const trainer = makeTrainer(model, { ...config, engine: 'fast' });
  let peak = process.memoryUsage().rss;
  try {
    const epoch = trainingBatches(split.train, split.seqLen, config.batch, new Random(config.seed));
    const run = epoch.slice(0, batches);
    const start = performance.now();
    for (const batch of run) {
      trainer.step(batch);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const seconds = (performance.now() - start) / 1000;
    const tokens = run.reduce((sum, b) => sum + b.targets.length, 0);
    await scoreBatches(model, evaluationBatches(split.validation, split.seqLen, config.batch));
    peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
    return {
      peakRssMiB: peak / MiB,
      vocabSize: tokenizer.vocabSize,
      trainTokens: split.train.length,
      validationTokens: split.validation.length,
      batches: run.length,
      batchesPerEpoch: epoch.length,
      tokensPerSecond: tokens / seconds,
    };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
