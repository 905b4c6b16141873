/**
 * The training loop: Adam on mean sparse cross-entropy with global-norm gradient clipping,
 * validation after every epoch, early stopping that keeps the best epoch's weights, and
 * cancellation that takes effect before the next batch. It reports through callbacks only,
 * so the CLI, the language server and the tests drive it the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from './errors';
import { countedStream, epochStream, evaluationBatches, trainingBatches, type Batch, type Split } from './dataset';
import { resolveEngine, type Engine } from './fast/engine';
import { FastTrainer, type SampledSoftmax, type TrainerCheckpoint } from './fast/trainer';
import { modelParts } from './model';
import { sampledWords } from './fast/candidates';
import { assignValues, WeightAverage } from './averaging';
import type { TrainingCheckpoint } from './checkpoint';
import { nativeBackendActive } from './native/ops';
import { ParallelTrainer } from './parallel/trainer';
import { Random } from './random';
import { NgramTeacher, shiftTensors, type TargetShift, type TeacherSettings } from './distillation';
import { subwordSettings, SubwordVectors, type SubwordSettings } from './subwordVectors';
import { countCorrect, meanCrossEntropy, scoreBatches, windowLogits } from './scoring';
import type { BatchProgress, EpochMetrics, StopReason, TrainConfig } from '../protocol/types';

export type TrainSettings = Pick<TrainConfig, 'epochs' | 'batch' | 'learningRate' | 'clipNorm' | 'patience' | 'seed'> &
  Partial<Pick<TrainConfig, 'tieWeights' | 'subwordVectors' | 'weightDrop' | 'distill' | 'rareAsUnknown' | 'lrDecay' | 'averageDecay' | 'softmaxSamples'>> & {
  /**
   * 'fast' (the default) runs SeqLab's fused forward and hand-written backward pass (its
   * own kernels on wasm and cpu, TensorFlow's fused ops on tensorflow); 'stock' runs the
   * tf.layers layers under the gradient tape. Both train the same variables of the same
   * model; backends without a fast path use 'stock'.
   */
  engine?: Engine;
  /**
   * Threads that train one step together on the fast path on wasm and cpu (data-parallel,
   * core/parallel); 1 (the default) trains on this thread alone. Native TensorFlow runs
   * its own products on every core and always trains on one thread.
   */
  threads?: number;
};

export interface TrainCallbacks {
  onBatch?(progress: BatchProgress): void;
  /** Awaited before training goes on, so a caller can save the model of a best epoch. */
  onEpoch?(metrics: EpochMetrics): void | Promise<void>;
  /**
   * After each completed epoch (and its onEpoch), the state to resume from; awaited. Only
   * asked for when given, as it copies every weight and moment out of the backend.
   */
  onCheckpoint?(checkpoint: TrainingCheckpoint): void | Promise<void>;
}

export interface TrainResult {
  history: EpochMetrics[];
  /** The epoch whose weights the model holds at the end (1-based). */
  best: EpochMetrics;
  stopReason: StopReason;
  /** Target tokens trained per second of training time. */
  tokensPerSecond: number;
  seconds: number;
}

/**
 * Trains `model` in place on `split`. At the end the model holds the weights of the epoch
 * with the lowest validation loss (training loss when there is no validation part).
 */
export async function trainModel(
  model: tf.LayersModel,
  split: Split,
  settings: TrainSettings,
  callbacks: TrainCallbacks = {},
  signal?: AbortSignal,
  /** A checkpoint of this model, settings and split to go on from (a resumed run). */
  resume?: TrainingCheckpoint,
): Promise<TrainResult> {
  let random = new Random(settings.seed);
  const trainer = makeRunTrainer(model, settings, split);
  const variables = trainer.variables;
  const average = settings.averageDecay ? new WeightAverage(variables, settings.averageDecay) : undefined;
  const batchesPerEpoch = trainingBatches(split.train, split.seqLen, settings.batch, new Random(0)).length;
  const totalBatches = batchesPerEpoch * settings.epochs;
  const history: EpochMetrics[] = [];
  let best: { metrics: EpochMetrics; weights: tf.Tensor[] } | undefined;
  let stopReason: StopReason = 'completed';
  let batchesDone = 0;
  let tokensTrained = 0;
  let trainingSeconds = 0;
  let firstEpoch = 1;
  const started = performance.now();

  try {
    if (resume) {
      if (!trainer.restore) throw new UserError('Only the fast path can resume a run; the stock engine keeps no checkpoint.');
      variables.forEach((v, i) => assignValues(v, resume.weights[i]));
      trainer.restore(resume.trainer);
      if (average && resume.average) average.restore(resume.average);
      random = Random.at(resume.shuffle);
      history.push(...resume.history);
      const bestMetrics = resume.history.find((m) => m.epoch === resume.bestEpoch) ?? resume.history[resume.history.length - 1];
      best = { metrics: bestMetrics, weights: variables.map((v, i) => tf.tensor(resume.bestWeights[i], v.shape)) };
      ({ batchesDone, tokensTrained, trainingSeconds } = resume.progress);
      firstEpoch = resume.epoch + 1;
    }
    for (let epoch = firstEpoch; epoch <= settings.epochs && stopReason === 'completed'; epoch++) {
      const stream = epochStream(split.train, settings.rareAsUnknown ?? 0, settings.seed, epoch);
      const batches = trainingBatches(stream, split.seqLen, settings.batch, random);
      let lossSum = 0;
      let correctSum = 0;
      let epochTokens = 0;
      for (let b = 0; b < batches.length; b++) {
        // Lets an abort from another task land, and keeps the process responsive.
        await new Promise((resolve) => setImmediate(resolve));
        if (signal?.aborted) {
          stopReason = 'cancelled';
          break;
        }
        const batch = batches[b];
        const t0 = performance.now();
        const { loss, correct } = await trainer.step(batch);
        average?.update();
        trainingSeconds += (performance.now() - t0) / 1000;
        const n = batch.targets.length;
        lossSum += loss * n;
        correctSum += correct;
        epochTokens += n;
        tokensTrained += n;
        batchesDone++;
        const elapsed = (performance.now() - started) / 1000;
        callbacks.onBatch?.({
          epoch,
          epochs: settings.epochs,
          batch: b + 1,
          batches: batches.length,
          loss,
          accuracy: correct / n,
          tokensPerSecond: tokensTrained / trainingSeconds,
          elapsedSeconds: elapsed,
          etaSeconds: (elapsed / batchesDone) * (totalBatches - batchesDone),
        });
      }
      if (epochTokens === 0) break; // cancelled before the epoch trained anything
      const validate_ = () => validate(model, split, settings.batch, trainer.engine);
      const validation = average ? await average.withAveraged(validate_) : await validate_();
      const loss = lossSum / epochTokens;
      const score = validation?.loss ?? loss;
      const isBest = !best || score < (best.metrics.valLoss ?? best.metrics.loss);
      const elapsed = (performance.now() - started) / 1000;
      const metrics: EpochMetrics = {
        epoch,
        epochs: settings.epochs,
        loss,
        accuracy: correctSum / epochTokens,
        valLoss: validation?.loss ?? null,
        valAccuracy: validation?.accuracy ?? null,
        valPerplexity: validation ? Math.exp(validation.loss) : null,
        tokensPerSecond: tokensTrained / trainingSeconds,
        elapsedSeconds: elapsed,
        etaSeconds: stopReason === 'cancelled' ? 0 : (elapsed / batchesDone) * (totalBatches - batchesDone),
        best: isBest,
        partial: stopReason === 'cancelled',
      };
      history.push(metrics);
      if (isBest) {
        tf.dispose(best?.weights);
        best = { metrics, weights: average ? average.snapshot() : variables.map((v) => tf.clone(v)) };
      }
      await callbacks.onEpoch?.(metrics);
      // Halving the step after an epoch that did not help lets Adam settle into the minimum
      // it is circling, where a fixed rate keeps overshooting it.
      if (!isBest && settings.lrDecay !== undefined && settings.lrDecay < 1) trainer.scaleLearningRate(settings.lrDecay);
      // A sampled softmax gets the model most of the way for a fraction of the output layer's
      // cost; the true objective takes over where it stops helping, and for the last epoch.
      if (trainer.sampling && (!isBest || epoch + 1 === settings.epochs)) trainer.useFullSoftmax!();
      const sinceBest = epoch - best!.metrics.epoch;
      if (stopReason === 'completed' && settings.patience > 0 && sinceBest >= settings.patience) {
        stopReason = 'early-stopped';
      }
      if (stopReason !== 'cancelled' && callbacks.onCheckpoint && trainer.checkpoint) {
        await callbacks.onCheckpoint({
          epoch,
          history: [...history],
          bestEpoch: best!.metrics.epoch,
          shuffle: random.position,
          progress: { batchesDone, tokensTrained, trainingSeconds },
          trainer: trainer.checkpoint(),
          average: average?.checkpoint(),
          weights: variables.map((v) => v.dataSync().slice() as Float32Array),
          bestWeights: best!.weights.map((w) => w.dataSync().slice() as Float32Array),
        });
      }
    }
  } finally {
    trainer.dispose();
    average?.dispose();
    if (best) {
      variables.forEach((v, i) => v.assign(best!.weights[i]));
      tf.dispose(best.weights);
    }
  }
  if (!best) throw new UserError('Training was stopped before its first batch, so there is no model to keep.');
  return {
    history,
    best: best.metrics,
    stopReason,
    tokensPerSecond: trainingSeconds > 0 ? tokensTrained / trainingSeconds : 0,
    seconds: (performance.now() - started) / 1000,
  };
}

async function validate(model: tf.LayersModel, split: Split, batch: number, engine: Engine) {
  if (split.validation.length < 2) return undefined;
  return scoreBatches(model, evaluationBatches(split.validation, split.seqLen, batch), false, engine);
}

export interface StepResult {
  /** Mean cross-entropy of the batch, before the update. */
  loss: number;
  /** Targets that were the model's top-1 guess. */
  correct: number;
}

/** Runs optimisation steps on a model's variables: one batch in, its loss and hits out. */
export interface Trainer {
  /** The engine that runs (the requested one, or 'stock' where the fast kernels are not in place). */
  readonly engine: Engine;
  readonly variables: tf.Variable[];
  step(batch: Batch): StepResult;
  /** Multiplies the learning rate of the steps to come. */
  scaleLearningRate(factor: number): void;
  /** Steps score a sample of the words (fast path); `useFullSoftmax` ends that. */
  readonly sampling?: boolean;
  useFullSoftmax?(): void;
  /** The state to continue from in another process (between epochs); only the fast path has one. */
  checkpoint?(): TrainerCheckpoint;
  restore?(state: TrainerCheckpoint): void;
  dispose(): void;
}

/**
 * The trainer of a run: data-parallel when more than one thread is asked for and the fast
 * path runs on wasm or cpu; on a sampled softmax when asked for and the vocabulary is big
 * enough for it to save anything.
 */
function makeRunTrainer(model: tf.LayersModel, settings: TrainSettings, split: Split): Trainer | ParallelTrainer {
  const vocabSize = modelParts(model).vocabSize;
  const samples = sampledWords(settings.softmaxSamples, vocabSize);
  const sampledSoftmax = samples > 0 ? { samples, counts: wordCounts(split.train, vocabSize) } : undefined;
  // A run saved before distillation existed has no setting, and resumes without it.
  const counted = countedStream(split.train, settings.rareAsUnknown ?? 0, settings.seed);
  const teacher = settings.distill ? NgramTeacher.settings(settings.distill, counted, vocabSize) : undefined;
  // Likewise subword vectors; and ids without their words (a split not from a tokenizer) have no spellings to share.
  const subwords = settings.subwordVectors && split.words ? subwordSettings(split.words) : undefined;
  const threads = Math.min(settings.threads ?? 1, settings.batch);
  if (threads > 1 && resolveEngine(settings.engine) === 'fast' && !nativeBackendActive()) {
    return new ParallelTrainer(model, model.trainableWeights.map((w) => w.read() as tf.Variable), { ...settings, sampledSoftmax, teacher, subwords }, threads);
  }
  return makeTrainer(model, { ...settings, sampledSoftmax, teacher, subwords });
}

/** A shift (distillation.ts) as the dense [seqLen·rows, V] table it stands for. */
function denseShift(shift: TargetShift, seqLen: number, rows: number): tf.Tensor2D {
  const [lowestOrder, shares, entries, weights] = shiftTensors(shift);
  const vocab = lowestOrder.shape[1]!;
  return tf.add(tf.matMul(shares as tf.Tensor2D, lowestOrder as tf.Tensor2D), tf.scatterND(entries, weights, [seqLen * rows, vocab]));
}

export function wordCounts(tokens: Int32Array, vocabSize: number): Float64Array {
  const counts = new Float64Array(vocabSize);
  for (const id of tokens) counts[id]++;
  return counts;
}

/** The trainer for `settings.engine` on the active backend; the benchmark times these. */
export function makeTrainer(
  model: tf.LayersModel,
  settings: TrainSettings & { sampledSoftmax?: SampledSoftmax; teacher?: TeacherSettings; subwords?: SubwordSettings },
): Trainer {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  if (resolveEngine(settings.engine) === 'fast') return new FastTrainer(model, variables, settings);
  if (settings.weightDrop) throw new UserError("Weight drop runs on SeqLab's fast path only (the wasm, cpu and tensorflow backends); with the stock engine set it to 0.");
  return new StockTrainer(model, variables, settings);
}

/** The Keras recipe: the layers' forward pass under the gradient tape, tf.train.adam. */
class StockTrainer implements Trainer {
  readonly engine = 'stock';

  private readonly optimizer: tf.Optimizer;
  private readonly teacher: NgramTeacher | undefined;
  private readonly subwords: SubwordVectors | undefined;

  constructor(
    private readonly model: tf.LayersModel,
    readonly variables: tf.Variable[],
    private readonly settings: TrainSettings & { teacher?: TeacherSettings; subwords?: SubwordSettings },
  ) {
    this.optimizer = tf.train.adam(settings.learningRate);
    if (settings.teacher) this.teacher = new NgramTeacher(settings.teacher);
    if (settings.subwords) this.subwords = new SubwordVectors(settings.subwords, this.model.layers[0].getWeights()[0] as tf.Variable);
  }

  step(batch: Batch): StepResult {
    const { inputs, targets, rows, seqLen } = batch;
    let correct = 0;
    let textLoss: tf.Scalar | undefined;
    const embeddings = this.model.layers[0].getWeights()[0] as tf.Variable;
    const outputKernel = this.model.layers[this.model.layers.length - 1].getWeights()[0] as tf.Variable;
    const loss = tf.tidy(() => {
      const x = tf.tensor2d(inputs, [rows, seqLen], 'int32');
      const { grads } = tf.variableGrads(() => {
        const logits = windowLogits(this.model, x, true);
        correct = countCorrect(logits, targets).top1;
        textLoss = tf.keep(meanCrossEntropy(logits, targets));
        if (!this.teacher) return textLoss;
        // Against the shifted targets: −Σ shift · log p, over the rows in the layers' order.
        const shift = tf.transpose(tf.reshape(denseShift(this.teacher.shift(batch), seqLen, rows), [seqLen, rows, -1]), [1, 0, 2]);
        const pull = tf.sum(tf.mul(tf.reshape(shift, logits.shape), tf.logSoftmax(logits)));
        return tf.sub(textLoss, tf.div(pull, targets.length)) as tf.Scalar;
      }, this.variables);
      if (this.settings.tieWeights) {
        // As on the fast path: one matrix, both uses' gradients, the output kernel its transpose.
        grads[embeddings.name] = tf.add(grads[embeddings.name], tf.transpose(grads[outputKernel.name]));
        delete grads[outputKernel.name];
      }
      if (this.subwords) grads[this.subwords.step.name] = this.subwords.gradient(grads[embeddings.name]);
      this.optimizer.applyGradients(clipByGlobalNorm(grads, this.settings.clipNorm));
      this.subwords?.addStep();
      if (this.settings.tieWeights) outputKernel.assign(tf.transpose(embeddings));
      return textLoss!;
    });
    const lossValue = loss.dataSync()[0];
    loss.dispose();
    return { loss: lossValue, correct };
  }

  scaleLearningRate(factor: number): void {
    // tf.train.adam reads its rate on every step but does not expose a setter.
    (this.optimizer as unknown as { learningRate: number }).learningRate *= factor;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.subwords?.dispose();
  }
}

/** Scales all gradients together so their global L2 norm is at most `clipNorm`. */
function clipByGlobalNorm(grads: tf.NamedTensorMap, clipNorm: number): GradientList {
  const names = Object.keys(grads);
  const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))));
  const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
  return names.map((name) => ({ name, tensor: tf.mul(grads[name], scale) }));
}

type GradientList = Extract<Parameters<tf.Optimizer['applyGradients']>[0], unknown[]>;
