/**
 * Model quality of the two engines: the same text, settings, seed and initial weights,
 * trained for the same epochs; validation perplexity after each epoch.
 *
 * Without dropout the engines compute the same numbers, so their perplexities agree to
 * rounding. With dropout they differ by design: TF.js' seeded Dropout layer draws the same
 * mask at every call, the fast path a fresh one per batch, and the two runs then differ as
 * much as two dropout seeds do.
 */
import { resolveTrainConfig } from '../core/config';
import type { Engine } from '../core/fast/engine';
import { buildModel } from '../core/model';
import { prepareText } from '../core/run';
import { trainModel } from '../core/train';
import type { CellType } from '../protocol/types';

export interface QualityFigures {
  cell: CellType;
  dropout: number;
  vocabSize: number;
  trainTokens: number;
  /** Validation perplexity after each epoch. */
  stock: number[];
  fast: number[];
  stockSeconds: number;
  fastSeconds: number;
}

export async function compareQuality(text: string, cell: CellType, epochs: number, dropout: number): Promise<QualityFigures> {
  // Defaults otherwise; every epoch runs, so both get the same number.
  const config = resolveTrainConfig({ cell, epochs, patience: 0, dropout });
  const { tokenizer, split } = prepareText(text, config, 'Moby Dick');
  const train = async (engine: Engine) => {
    const model = buildModel({ ...config, vocabSize: tokenizer.vocabSize }, config.seed);
    try {
      const result = await trainModel(model, split, { ...config, engine });
      return { perplexities: result.history.map((m) => m.valPerplexity ?? NaN), seconds: result.seconds };
    } finally {
      model.dispose();
    }
  };
  const stock = await train('stock');
  const fast = await train('fast');
  return {
    cell,
    dropout,
    vocabSize: tokenizer.vocabSize,
    trainTokens: split.train.length,
    stock: stock.perplexities,
    fast: fast.perplexities,
    stockSeconds: stock.seconds,
    fastSeconds: fast.seconds,
  };
}
