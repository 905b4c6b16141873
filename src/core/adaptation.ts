/**
 * Adapting the network to the document it reads (dynamic evaluation, Krause et al. 2018):
 * after every segment of text, one step of gradient descent on that segment, so what the
 * document says early on shapes what the network expects later. A person's next sentence
 * is more like their last page than like the training text as a whole; the caches of the
 * suggestion model (mixture.ts) remember the document's words and contexts, this lets
 * the network itself learn them, names and turns of phrase included.
 *
 * The steps go to copies of the model's weights: the run's model is never changed, and
 * `reset` goes back to it. Scoring a text (`adaptedTargetProbabilities`) and the predictor
 * in the editor adapt at the same points, so what `train` and `eval` measure is what the
 * ghost text does.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from './dataset';
import { modelParts, type ModelParts } from './model';
import { makeNetwork, type LanguageNetwork, type LayerState } from './network';
import type { AdaptationSettings } from '../protocol/types';

export type { AdaptationSettings };

/**
 * Measured on the held-out text of the quality bench's texts with their default runs
 * (network nats per character, static → adapted at 0.3 / 0.5): novel 1.3952 → 1.3823 /
 * 1.3808, speeches 1.2165 → 1.2035 / 1.2012, wrapped 1.1089 → 1.1009 / 1.1005. Shorter
 * segments did a little better (speeches 1.1991 at 10) for twice the steps.
 */
export const DEFAULT_ADAPTATION: Readonly<AdaptationSettings> = { learningRate: 0.5, segmentTokens: 20 };

/** A step's gradients are scaled down to this global norm at most, so one odd segment cannot wreck the weights. */
const CLIP_NORM = 5;

export class AdaptingNetwork {
  /** The network over the adapted weights, without dropout (it scores and learns from real text). */
  readonly network: LanguageNetwork;
  private readonly variables: tf.Variable[];
  /** The model's own weights, in the order of `variables`, to go back to (its live variables: never disposed here). */
  private readonly original: tf.Tensor[];
  /** Steps taken since the weights were the model's. */
  steps = 0;

  constructor(
    model: tf.LayersModel,
    readonly settings: AdaptationSettings,
  ) {
    const parts = modelParts(model);
    const tied = isTied(parts);
    // A variable made from a tensor shares its numbers until the first step assigns new ones:
    // a document's copy costs memory only once the network has learnt from it.
    const copy = <T extends tf.Tensor>(t: T) => tf.variable(t, true) as unknown as T;
    const adapted: ModelParts = {
      ...parts,
      embeddings: copy(parts.embeddings),
      recurrent: parts.recurrent.map((w) => ({ kernel: copy(w.kernel), recurrentKernel: copy(w.recurrentKernel), bias: copy(w.bias) })),
      outputKernel: copy(parts.outputKernel),
      outputBias: copy(parts.outputBias),
      dropout: parts.dropout.map(() => 0),
      inputDropout: 0,
    };
    this.network = makeNetwork(adapted, tied);
    this.variables = [
      adapted.embeddings,
      ...adapted.recurrent.flatMap((w) => [w.kernel, w.recurrentKernel, w.bias]),
      adapted.outputKernel,
      adapted.outputBias,
    ] as tf.Variable[];
    this.original = [
      parts.embeddings,
      ...parts.recurrent.flatMap((w) => [w.kernel, w.recurrentKernel, w.bias]),
      parts.outputKernel,
      parts.outputBias,
    ];
  }

  get parts(): ModelParts {
    return this.network.parts;
  }

  /**
   * One step of gradient descent on the mean loss of `segment` (one row) read from
   * `initial`, the state before its first input.
   */
  learn(segment: Batch, initial: LayerState[] | undefined): void {
    const { gradients, state } = this.network.trainingStep(segment, 0, initial);
    tf.dispose(state.flat());
    tf.tidy(() => {
      const present = this.variables.filter((v) => gradients[v.name]);
      const norm = tf.sqrt(tf.addN(present.map((v) => tf.sum(tf.square(gradients[v.name])))));
      const scale = tf.div(this.settings.learningRate * CLIP_NORM, tf.maximum(norm, CLIP_NORM));
      for (const v of present) v.assign(tf.sub(v, tf.mul(gradients[v.name], scale)));
    });
    tf.dispose(Object.values(gradients));
    this.network.tieOutputKernel();
    this.steps++;
  }

  /** Back to the model's own weights. */
  reset(): void {
    if (this.steps === 0) return;
    this.variables.forEach((v, i) => v.assign(this.original[i]));
    this.steps = 0;
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}

/**
 * The network's probability of every target of `stream[1..]` and its top layer's output
 * after every input, reading the stream in one lane from a blank state and adapting as the
 * predictor does while a person types: a segment is learnt from once the token after it
 * has been read (its last target), so that token is read with the weights before the
 * step, and the step comes before the next one. In the editor the step then falls between
 * two keystrokes rather than on one (Predictor.learnPending).
 */
export function adaptedTargetProbabilitiesAndStates(
  model: tf.LayersModel,
  stream: Int32Array,
  settings: AdaptationSettings,
): { probabilities: Float64Array; hidden: Float32Array; units: number } {
  const adapting = new AdaptingNetwork(model, settings);
  const { units } = adapting.parts;
  const targets = Math.max(stream.length - 1, 0);
  const probabilities = new Float64Array(targets);
  const hidden = new Float32Array(targets * units);
  let state: LayerState[] | undefined;
  let due: { segment: Batch; initial: LayerState[] | undefined } | undefined;
  const score = (start: number, length: number) => {
    const scored = adapting.network.targetLogProbabilities(segmentAt(stream, start, length), state);
    scored.logProbabilities.forEach((logProbability, t) => (probabilities[start + t] = Math.exp(logProbability)));
    hidden.set(scored.hidden, start * units);
    const before = state;
    state = scored.state;
    return before;
  };
  try {
    for (let start = 0; start < targets; start += settings.segmentTokens) {
      const length = Math.min(settings.segmentTokens, targets - start);
      let initial: LayerState[] | undefined;
      if (due) {
        // The segment's first token with the weights before the step, the rest after it.
        initial = score(start, 1);
        adapting.learn(due.segment, due.initial);
        tf.dispose(due.initial?.flat());
        due = undefined;
        if (length > 1) tf.dispose(score(start + 1, length - 1)?.flat());
      } else {
        initial = score(start, length);
      }
      // A segment cut short by the end of the text is never learnt from, as in the editor.
      if (length === settings.segmentTokens) due = { segment: segmentAt(stream, start, length), initial };
      else tf.dispose(initial?.flat());
    }
  } finally {
    tf.dispose([...(state?.flat() ?? []), ...(due?.initial?.flat() ?? [])]);
    adapting.dispose();
  }
  return { probabilities, hidden, units };
}

/** Inputs stream[start, start + length) and the targets one on, as a batch of one row. */
export function segmentAt(stream: ArrayLike<number>, start: number, length: number): Batch {
  const inputs = new Int32Array(length);
  const targets = new Int32Array(length);
  for (let t = 0; t < length; t++) {
    inputs[t] = stream[start + t];
    targets[t] = stream[start + t + 1];
  }
  return { inputs, targets, rows: 1, seqLen: length, continues: start > 0, starts: Int32Array.of(start) };
}

/**
 * Whether the output kernel is the embedding matrix transposed (a model trained with tied
 * weights): then the two are one matrix to adapt, as in training.
 */
function isTied(parts: ModelParts): boolean {
  const [vocab, size] = parts.embeddings.shape;
  if (size !== parts.units || parts.outputKernel.shape[1] !== vocab) return false;
  const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(parts.embeddings, tf.transpose(parts.outputKernel)))).dataSync()[0]);
  return difference === 0;
}
