/** The fast recurrence of each cell type. */
import type { CellType } from '../../../protocol/types';
import type { RecurrentWeights } from '../../model';
import type { Recurrence } from '../recurrence';
import { GruRecurrence } from './gru';
import { LstmRecurrence } from './lstm';
import { RnnRecurrence } from './rnn';

export function makeRecurrence(cell: CellType, weights: RecurrentWeights, units: number): Recurrence {
  switch (cell) {
    case 'rnn':
      return new RnnRecurrence(weights, units);
    case 'gru':
      return new GruRecurrence(weights, units);
    case 'lstm':
      return new LstmRecurrence(weights, units);
  }
}
