/** One optimisation step on the fast path: forward, hand-written backward, clipped Adam. */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../dataset';
import { modelParts } from '../model';
import { Random } from '../random';
import type { StepResult, Trainer } from '../train';
import { ClippedAdam, type AdamCheckpoint } from './adam';
import { makeNetwork, type LanguageNetwork, type LayerState } from '../network';
import { candidateSeed } from '../dropoutSeeds';
import { CandidateSampler, type Candidates } from './candidates';
import { NgramTeacher, type TeacherSettings } from '../distillation';
import { SubwordVectors, type SubwordSettings } from '../subwordVectors';

/** What a resumed run needs of the trainer: the optimizer's state and where the dropout seeds were. */
export interface TrainerCheckpoint {
  optimizer: AdamCheckpoint;
  dropout: number;
  /** Sampled softmax had ended (absent in checkpoints of runs that never sampled). */
  fullSoftmax?: boolean;
}

/** Training on a sampled softmax (candidates.ts): how many words to draw, from these counts. */
export interface SampledSoftmax {
  samples: number;
  /** Occurrences of every word id in the training text. */
  counts: ArrayLike<number>;
}

export interface TrainerSettings {
  learningRate: number;
  clipNorm: number;
  seed: number;
  tieWeights?: boolean;
  /** Weight drop on the recurrent kernels (weightDrop.ts). */
  weightDrop?: number;
  sampledSoftmax?: SampledSoftmax;
  /** Distillation from the trigram (distillation.ts). */
  teacher?: TeacherSettings;
  /** Word vectors that share their spellings' letter groups (subwordVectors.ts). */
  subwords?: SubwordSettings;
}

/** Mixed into the seed so that the dropout masks' random stream is not the batch shuffles' stream. */
const DROPOUT_STREAM = 0x2545f491;

export class FastTrainer implements Trainer {
  readonly engine = 'fast';
  private readonly network: LanguageNetwork;
  private readonly optimizer: ClippedAdam;
  /** Seeds of the dropout masks: a fresh mask every batch, the same ones for the same seed. */
  private dropoutSeeds: Random;
  /** The state the last batch ended in: where a batch that continues it starts. */
  private carried: LayerState[] | undefined;
  /** Draws each step's candidate words while training on a sampled softmax. */
  private sampler: CandidateSampler | undefined;
  private readonly teacher: NgramTeacher | undefined;
  private readonly subwords: SubwordVectors | undefined;
  /** What the optimizer steps: the model's variables and, with subword vectors, their letter groups' step. */
  private readonly optimized: tf.Variable[];

  constructor(
    model: tf.LayersModel,
    readonly variables: tf.Variable[],
    settings: TrainerSettings,
  ) {
    this.network = makeNetwork(modelParts(model), settings.tieWeights, settings.weightDrop);
    this.optimizer = new ClippedAdam({ ...settings });
    this.network.tieOutputKernel();
    this.dropoutSeeds = new Random((settings.seed ^ DROPOUT_STREAM) >>> 0);
    if (settings.teacher) this.teacher = new NgramTeacher(settings.teacher);
    if (settings.subwords) this.subwords = new SubwordVectors(settings.subwords, this.network.parts.embeddings as tf.Variable);
    this.optimized = this.subwords ? [...variables, this.subwords.step] : variables;
    const { sampledSoftmax } = settings;
    if (sampledSoftmax) this.sampler = new CandidateSampler(sampledSoftmax.counts, sampledSoftmax.samples);
  }

  /** Training on a sampled softmax now. */
  get sampling(): boolean {
    return this.sampler !== undefined;
  }

  /** From now on every step scores the whole vocabulary. */
  useFullSoftmax(): void {
    this.sampler = undefined;
  }

  /** The words a step of `batch` (the whole batch, when threads split it) scores; none: all of them. */
  candidates(batch: Batch, seed: number): Candidates | undefined {
    return this.sampler?.draw(batch.targets, candidateSeed(seed));
  }

  step(batch: Batch): StepResult {
    const seed = this.nextDropoutSeed();
    const { lossSum, top1, gradients } = this.gradients(batch, seed, this.candidates(batch, seed));
    this.update(gradients);
    return { loss: lossSum / batch.targets.length, correct: top1 };
  }

  /** The seed of the next batch's dropout masks (a data-parallel trainer gives it to every thread). */
  nextDropoutSeed(): number {
    return Math.floor(this.dropoutSeeds.next() * 2 ** 32);
  }

  /**
   * The first half of a step: the batch's loss figures and the gradients of its mean loss
   * (owned by the caller), carrying the recurrent state on to the next batch.
   */
  gradients(batch: Batch, seed: number, candidates?: Candidates): { lossSum: number; top1: number; gradients: tf.NamedTensorMap } {
    const shift = this.teacher?.shift(batch, candidates);
    const { lossSum, top1, gradients, state } = this.network.trainingStep(batch, seed, batch.continues ? this.carried : undefined, candidates, shift);
    tf.dispose(this.carried?.flat());
    this.carried = state;
    return { lossSum, top1, gradients };
  }

  /** The second half: one clipped Adam step with `gradients` (disposed here). */
  update(gradients: tf.NamedTensorMap): void {
    const { subwords } = this;
    const embeddings = this.network.parts.embeddings as tf.Variable;
    if (subwords && gradients[embeddings.name]) gradients[subwords.step.name] = subwords.gradient(gradients[embeddings.name]);
    this.optimizer.apply(this.optimized, gradients);
    subwords?.addStep();
    for (const gradient of Object.values(gradients)) gradient.dispose();
    this.network.tieOutputKernel();
  }

  scaleLearningRate(factor: number): void {
    this.optimizer.learningRate *= factor;
  }

  /** Taken between epochs, where no recurrent state is carried into the next batch. */
  checkpoint(): TrainerCheckpoint {
    return { optimizer: this.optimizer.checkpoint(this.optimized), dropout: this.dropoutSeeds.position, fullSoftmax: !this.sampler };
  }

  restore(state: TrainerCheckpoint): void {
    // A checkpoint of a run without subword vectors has no moments for their step: they start at zero.
    this.optimizer.restore(this.optimized, state.optimizer);
    this.dropoutSeeds = Random.at(state.dropout);
    if (state.fullSoftmax) this.sampler = undefined;
    this.network.tieOutputKernel();
  }

  dispose(): void {
    this.optimizer.dispose();
    this.subwords?.dispose();
    tf.dispose(this.carried?.flat());
  }
}
