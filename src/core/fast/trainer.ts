/** One optimisation step on the fast path: forward, hand-written backward, clipped Adam. */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../dataset';
import { modelParts } from '../model';
import { Random } from '../random';
import type { StepResult, Trainer } from '../train';
import { ClippedAdam, type AdamCheckpoint } from './adam';
import { makeNetwork, type LanguageNetwork, type LayerState } from '../network';

/** What a resumed run needs of the trainer: the optimizer's state and where the dropout seeds were. */
export interface TrainerCheckpoint {
  optimizer: AdamCheckpoint;
  dropout: number;
}

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
  private readonly network: LanguageNetwork;
  private readonly optimizer: ClippedAdam;
  /** Seeds of the dropout masks: a fresh mask every batch, the same ones for the same seed. */
  private dropoutSeeds: Random;
  /** The state the last batch ended in: where a batch that continues it starts. */
  private carried: LayerState[] | undefined;

  constructor(
    model: tf.LayersModel,
    readonly variables: tf.Variable[],
    settings: TrainerSettings,
  ) {
    this.network = makeNetwork(modelParts(model), settings.tieWeights);
    this.optimizer = new ClippedAdam({ ...settings });
    this.network.tieOutputKernel();
    this.dropoutSeeds = new Random((settings.seed ^ DROPOUT_STREAM) >>> 0);
  }

  step(batch: Batch): StepResult {
    const seed = Math.floor(this.dropoutSeeds.next() * 2 ** 32);
    const { lossSum, top1, gradients, state } = this.network.trainingStep(batch, seed, batch.continues ? this.carried : undefined);
    this.optimizer.apply(this.variables, gradients);
    for (const gradient of Object.values(gradients)) gradient.dispose();
    this.network.tieOutputKernel();
    tf.dispose(this.carried?.flat());
    this.carried = state;
    return { loss: lossSum / batch.targets.length, correct: top1 };
  }

  scaleLearningRate(factor: number): void {
    this.optimizer.learningRate *= factor;
  }

  /** Taken between epochs, where no recurrent state is carried into the next batch. */
  checkpoint(): TrainerCheckpoint {
    return { optimizer: this.optimizer.checkpoint(this.variables), dropout: this.dropoutSeeds.position };
  }

  restore(state: TrainerCheckpoint): void {
    this.optimizer.restore(this.variables, state.optimizer);
    this.dropoutSeeds = Random.at(state.dropout);
    this.network.tieOutputKernel();
  }

  dispose(): void {
    this.optimizer.dispose();
    tf.dispose(this.carried?.flat());
  }
}
