/**
 * The seeds of a training batch's dropout masks, all drawn from the batch's one seed, so
 * that each mask (the word vectors', each layer's) is its own random stream and a seed
 * repeats a batch exactly. Shared by both network implementations.
 */

/** Mixed into the batch's seed so that the input mask is not the first layer's mask. */
const INPUT_DROPOUT_STREAM = 0x5bd1e995;
/** The golden-ratio step between the layers' seeds. */
const LAYER_STEP = 0x9e3779b9;

export function inputMaskSeed(seed: number): number {
  return (seed ^ INPUT_DROPOUT_STREAM) >>> 0;
}

/** Mixed into the batch's seed for the words a sampled-softmax step scores (fast/candidates.ts). */
const CANDIDATE_STREAM = 0x27d4eb2f;

export function candidateSeed(seed: number): number {
  return (seed ^ CANDIDATE_STREAM) >>> 0;
}

export function layerMaskSeed(seed: number, layer: number): number {
  return (seed + layer * LAYER_STEP) >>> 0;
}

/** Mixed into a layer's seed for its recurrent kernel's weight-drop mask (weightDrop.ts). */
const WEIGHT_DROP_STREAM = 0x165667b1;

export function weightDropSeed(seed: number, layer: number): number {
  return (layerMaskSeed(seed, layer) ^ WEIGHT_DROP_STREAM) >>> 0;
}
