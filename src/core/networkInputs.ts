/** What both network implementations take from a batch and from the model's variables, and give back. */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from './dataset';
import { toTimeMajor } from './fast/layout';
import type { LayerState, TargetLogProbabilities } from './network';

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

/** Reads a batch's log-probabilities and top-layer outputs into numbers, disposing the tensors. */
export function readTargetLogProbabilities(values: tf.Tensor, top: tf.Tensor, state: LayerState[]): TargetLogProbabilities {
  const logProbabilities = values.dataSync() as Float32Array;
  const hidden = top.dataSync() as Float32Array;
  tf.dispose([values, top]);
  return { logProbabilities, hidden, state };
}
