/**
 * What a model's parts cost, for the comparison of the three cells: the parameters of the
 * embedding, the recurrent layers and the output layer. A recurrent layer has one set of
 * input, recurrent and bias weights per gate block: SimpleRNN 1, GRU 3 (update, reset,
 * candidate), LSTM 4 (input, forget, cell, output), so its recurrent parameters stand
 * 1 : 3 : 4, and so does the arithmetic of each step.
 */
import type { CellType } from '../protocol/types';
import type { ModelShape } from './model';

export const GATE_BLOCKS: Record<CellType, number> = { rnn: 1, gru: 3, lstm: 4 };

export interface ParameterParts {
  embedding: number;
  recurrent: number;
  output: number;
}

/** Trainable parameters per part, as buildModel makes the model (the output layer's kernel counted apart even when tied). */
export function parameterParts(shape: ModelShape): ParameterParts {
  const gates = GATE_BLOCKS[shape.cell];
  let recurrent = 0;
  for (let layer = 0; layer < shape.layers; layer++) {
    const input = layer === 0 ? shape.embedding : shape.units;
    recurrent += gates * (input * shape.units + shape.units * shape.units + shape.units);
  }
  return { embedding: shape.vocabSize * shape.embedding, recurrent, output: shape.units * shape.vocabSize + shape.vocabSize };
}
