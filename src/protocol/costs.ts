/**
 * What a model's parts cost, for the comparison of the three cells: the parameters of the
 * embedding, the recurrent layers and the output layer. A recurrent layer has one set of
 * input, recurrent and bias weights per gate block: SimpleRNN 1, GRU 3 (update, reset,
 * candidate), LSTM 4 (input, forget, cell, output), so its recurrent parameters stand
 * 1 : 3 : 4, and so does the arithmetic of each step. `compare` prints it and the Models
 * view shows it under a comparison, beside the time per token each cell took.
 */
import type { CellType, TrainConfig } from './types';

export const GATE_BLOCKS: Record<CellType, number> = { rnn: 1, gru: 3, lstm: 4 };

export interface ParameterParts {
  embedding: number;
  recurrent: number;
  output: number;
}

export type CostShape = Pick<TrainConfig, 'cell' | 'embedding' | 'units' | 'layers'> & { vocabSize: number };

/** Trainable parameters per part, as buildModel makes the model (the output layer's kernel counted apart even when tied). */
export function parameterParts(shape: CostShape): ParameterParts {
  const gates = GATE_BLOCKS[shape.cell];
  let recurrent = 0;
  for (let layer = 0; layer < shape.layers; layer++) {
    const input = layer === 0 ? shape.embedding : shape.units;
    recurrent += gates * (input * shape.units + shape.units * shape.units + shape.units);
  }
  return { embedding: shape.vocabSize * shape.embedding, recurrent, output: shape.units * shape.vocabSize + shape.vocabSize };
}

/** One compared run's costs, with its recurrent weights and time per token against the reference run's. */
export interface CellCost {
  cell: CellType;
  parts: ParameterParts;
  recurrentRatio: number;
  /** Time per token ÷ the reference's (the inverse ratio of tokens per second); null when either is unknown. */
  timeRatio: number | null;
}

/**
 * The costs of runs compared on one text, against the simple RNN among them (else the
 * first): whether the measured time per token follows the 1 : 3 : 4 of the weights.
 */
export function comparisonCosts(runs: (CostShape & { tokensPerSecond?: number | null })[]): { reference: CellType; cells: CellCost[] } {
  const parts = runs.map(parameterParts);
  const at = Math.max(0, runs.findIndex((run) => run.cell === 'rnn'));
  const reference = runs[at];
  return {
    reference: reference.cell,
    cells: runs.map((run, i) => ({
      cell: run.cell,
      parts: parts[i],
      recurrentRatio: parts[i].recurrent / parts[at].recurrent,
      timeRatio: run.tokensPerSecond && reference.tokensPerSecond ? reference.tokensPerSecond / run.tokensPerSecond : null,
    })),
  };
}
