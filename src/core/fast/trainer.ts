/** One optimisation step on the fast path: forward, hand-written backward, clipped Adam. */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../dataset';
import { modelParts } from '../model';
import { Random } from '../random';
import type { StepResult, Trainer } from '../train';
import { ClippedAdam } from './adam';
import { transpose } from './layout';
import { FastNetwork } from './network';
import type { LayerState } from './recurrence';

export interface TrainerSettings {
  learningRate: number;
  clipNorm: number;
  seed: number;
  tieWeights?: boolean;
}

/** Mixed into the seed so that the dropout masks' random stream is not the batch shuffles' stream. */
const DROPOUT_STREAM = 0x2545f491;

export class FastTrainer implements Trainer {
  readonly engine = 'fast';
  private readonly network: FastNetwork;
  private readonly optimizer: ClippedAdam;
  /** Seeds of the dropout masks: a fresh mask every batch, the same ones for the same seed. */
  private readonly dropoutSeeds: Random;
  /** The state the last batch ended in: where a batch that continues it starts. */
  private carried: LayerState[] | undefined;

  constructor(
    model: tf.LayersModel,
    readonly variables: tf.Variable[],
    settings: TrainerSettings,
  ) {
    this.network = new FastNetwork(modelParts(model), settings.tieWeights);
    this.optimizer = new ClippedAdam({ ...settings });
    this.tieOutputKernel();
    this.dropoutSeeds = new Random((settings.seed ^ DROPOUT_STREAM) >>> 0);
  }

  step(batch: Batch): StepResult {
    const seed = Math.floor(this.dropoutSeeds.next() * 2 ** 32);
    const { lossSum, top1, gradients, state } = this.network.trainingStep(batch, seed, batch.continues ? this.carried : undefined);
    this.optimizer.apply(this.variables, gradients);
    for (const gradient of Object.values(gradients)) gradient.dispose();
    this.tieOutputKernel();
    tf.dispose(this.carried?.flat());
    this.carried = state;
    return { loss: lossSum / batch.targets.length, correct: top1 };
  }

  scaleLearningRate(factor: number): void {
    this.optimizer.learningRate *= factor;
  }

  /** With tied weights the output kernel follows the embeddings it is the transpose of. */
  private tieOutputKernel(): void {
    if (!this.network.tiedWeights) return;
    const { embeddings, outputKernel } = this.network.parts;
    tf.tidy(() => (outputKernel as tf.Variable).assign(transpose(embeddings)));
  }

  dispose(): void {
    this.optimizer.dispose();
    tf.dispose(this.carried?.flat());
  }
}
