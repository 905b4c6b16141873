/**
 * Everything a run needs to go on training in another process exactly where it was after
 * an epoch: the weights as trained (not the averaged or best ones the model file holds),
 * the optimizer's moments, the weight average, the best epoch's weights, where the random
 * streams were, and the history. Written after every epoch as one file, `checkpoint.bin`:
 * a JSON header and the numbers after it, so a crash mid-write (the file is renamed into
 * place) never leaves a header that does not match its numbers.
 */
import { UserError } from './errors';
import type { TrainerCheckpoint } from './fast/trainer';
import type { EpochMetrics } from '../protocol/types';

export interface TrainingCheckpoint {
  /** Epochs completed; training goes on with the next. */
  epoch: number;
  history: EpochMetrics[];
  bestEpoch: number;
  /** Where the batch shuffles' random stream was. */
  shuffle: number;
  progress: { batchesDone: number; tokensTrained: number; trainingSeconds: number };
  trainer: TrainerCheckpoint;
  average?: { updates: number; weights: Float32Array[] };
  /** The variables as trained, in the model's order. */
  weights: Float32Array[];
  /** The best epoch's weights (averaged when averaging), the model training ends with. */
  bestWeights: Float32Array[];
}

const MAGIC = 'seqlab-checkpoint-1';

/** One binary file: 4 bytes of header length, the JSON header, padding to 4 bytes, the float32 arrays. */
export function encodeCheckpoint(checkpoint: TrainingCheckpoint): Uint8Array {
  const arrays: Float32Array[] = [];
  // Each array in the header becomes its index into `arrays`.
  const ref = (values: Float32Array) => arrays.push(values) - 1;
  const header = {
    magic: MAGIC,
    ...checkpoint,
    trainer: {
      ...checkpoint.trainer,
      optimizer: {
        ...checkpoint.trainer.optimizer,
        moments: checkpoint.trainer.optimizer.moments.map((m) => (m ? { m: ref(m.m), v: ref(m.v) } : null)),
      },
    },
    average: checkpoint.average && { updates: checkpoint.average.updates, weights: checkpoint.average.weights.map(ref) },
    weights: checkpoint.weights.map(ref),
    bestWeights: checkpoint.bestWeights.map(ref),
    arrays: [] as number[],
  };
  header.arrays = arrays.map((a) => a.length);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align4(4 + json.length);
  const bytes = new Uint8Array(dataStart + 4 * arrays.reduce((n, a) => n + a.length, 0));
  new DataView(bytes.buffer).setUint32(0, json.length, true);
  bytes.set(json, 4);
  let offset = dataStart;
  for (const values of arrays) {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    offset += values.byteLength;
  }
  return bytes;
}

export function decodeCheckpoint(bytes: Uint8Array): TrainingCheckpoint {
  const damaged = () => new UserError('The run\'s checkpoint.bin is damaged, so the run cannot be resumed.');
  if (bytes.length < 4) throw damaged();
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  let header: EncodedHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))) as EncodedHeader;
  } catch {
    throw damaged();
  }
  if (header.magic !== MAGIC || !Array.isArray(header.arrays)) throw damaged();
  const arrays: Float32Array[] = [];
  let offset = align4(4 + headerLength);
  for (const length of header.arrays) {
    if (offset + 4 * length > bytes.length) throw damaged();
    // A copy: the file's buffer need not be aligned for a Float32Array view (and a Node
    // Buffer's slice would share a larger pool).
    const values = new Float32Array(length);
    new Uint8Array(values.buffer).set(bytes.subarray(offset, offset + 4 * length));
    arrays.push(values);
    offset += 4 * length;
  }
  const at = (index: number) => arrays[index];
  return {
    epoch: header.epoch,
    history: header.history,
    bestEpoch: header.bestEpoch,
    shuffle: header.shuffle,
    progress: header.progress,
    trainer: {
      ...header.trainer,
      optimizer: { ...header.trainer.optimizer, moments: header.trainer.optimizer.moments.map((m) => (m ? { m: at(m.m), v: at(m.v) } : null)) },
    },
    average: header.average && { updates: header.average.updates, weights: header.average.weights.map(at) },
    weights: header.weights.map(at),
    bestWeights: header.bestWeights.map(at),
  };
}

interface EncodedHeader extends Omit<TrainingCheckpoint, 'trainer' | 'average' | 'weights' | 'bestWeights'> {
  magic: string;
  trainer: Omit<TrainerCheckpoint, 'optimizer'> & {
    optimizer: Omit<TrainerCheckpoint['optimizer'], 'moments'> & { moments: ({ m: number; v: number } | null)[] };
  };
  average?: { updates: number; weights: number[] };
  weights: number[];
  bestWeights: number[];
  arrays: number[];
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
