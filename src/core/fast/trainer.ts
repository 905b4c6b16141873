/** One optimisation step on the fast path: forward, hand-written backward, clipped Adam. */
import type * as tf from '@tensorflow/tfjs';
import type { Batch } from '../dataset';
import { modelParts } from '../model';
import { Random } from '../random';
import type { StepResult, Trainer } from '../train';
import { ClippedAdam } from './adam';
import { FastNetwork } from './network';

export interface TrainerSettings {
  learningRate: number;
  clipNorm: number;
  seed: number;
}

/** Mixed into the seed so that the dropout masks' random stream is not the batch shuffles' stream. */
const DROPOUT_STREAM = 0x2545f491;

export class FastTrainer implements Trainer {
  readonly engine = 'fast';
  private readonly network: FastNetwork;
  private readonly optimizer: ClippedAdam;
  /** Seeds of the dropout masks: a fresh mask every batch, the same ones for the same seed. */
  private readonly dropoutSeeds: Random;

  constructor(
    model: tf.LayersModel,
    readonly variables: tf.Variable[],
    settings: TrainerSettings,
  ) {
    this.network = new FastNetwork(modelParts(model));
    this.optimizer = new ClippedAdam(settings);
    this.dropoutSeeds = new Random((settings.seed ^ DROPOUT_STREAM) >>> 0);
  }

  step(batch: Batch): StepResult {
    const { lossSum, top1, gradients } = this.network.trainingStep(batch, Math.floor(this.dropoutSeeds.next() * 2 ** 32));
    this.optimizer.apply(this.variables, gradients);
    for (const gradient of Object.values(gradients)) gradient.dispose();
    return { loss: lossSum / batch.targets.length, correct: top1 };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
