/** What both network implementations take from a batch and from the model's variables. */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from './dataset';
import { toTimeMajor } from './fast/layout';

/** The batch's inputs and targets as time-major id tensors: row t·rows + r is lane r at step t. */
export function timeMajorTensors(batch: Batch): { ids: tf.Tensor1D; targets: tf.Tensor1D } {
  return {
    ids: tf.tensor1d(toTimeMajor(batch.inputs, batch.rows, batch.seqLen), 'int32'),
    targets: tf.tensor1d(toTimeMajor(batch.targets, batch.rows, batch.seqLen), 'int32'),
  };
}

/** ModelParts holds the model's live variables; gradients are keyed by their names. */
export function variableName(weight: tf.Tensor): string {
  if (!(weight instanceof tf.Variable)) throw new Error('Training needs the model\'s variables, not copies.');
  return weight.name;
}
