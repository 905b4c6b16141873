/**
 * Data-parallel training of one run on several cores. The wasm backend computes on one
 * thread, so one run would leave the other cores idle: here each step's lanes are split
 * between this thread and worker threads that hold copies of the model. Every thread
 * computes the gradients of its lanes (dropout masks as the whole batch would draw them),
 * this thread sums them into the whole batch's mean-loss gradient, and every thread
 * applies that same update with its own copy of the optimizer, so all copies stay equal
 * and the run trains as one thread would, up to float rounding in the sum.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { activeBackend } from '../backend';
import type { Batch } from '../dataset';
import type { Candidates } from '../fast/candidates';
import { FastTrainer, type TrainerCheckpoint, type TrainerSettings } from '../fast/trainer';
import { GradientLayout } from './gradients';
import { TRAINING_THREAD_MARK, type FromThread, type ThreadStart, type ToThread } from './messages';
import { splitBatch } from './split';

export interface StepFigures {
  loss: number;
  correct: number;
}

export class ParallelTrainer {
  readonly engine = 'fast';
  private readonly main: FastTrainer;
  /** Started at the first step, so that they copy the weights and optimizer state a resumed run restored. */
  private threads: TrainingThread[] | undefined;
  private readonly layout: GradientLayout;
  /** Each thread's gradients of its lanes (this one's first), and their weighted sum: shared with the threads. */
  private readonly buffers: Float32Array[];
  private readonly sum: Float32Array;
  /** The threads' last updates, which read `sum`: it is written again only when they are done. */
  private applying: Promise<void>[] = [];
  /** Set by stepWithoutExchange: the copies no longer agree, so this trainer trains no further. */
  private parted = false;

  constructor(
    private readonly model: tf.LayersModel,
    readonly variables: tf.Variable[],
    private readonly settings: TrainerSettings,
    /** Threads in all, this one included (at least 2). */
    readonly threadCount: number,
  ) {
    this.main = new FastTrainer(model, variables, settings);
    this.layout = GradientLayout.of(variables);
    this.buffers = Array.from({ length: threadCount }, () => this.layout.newBuffer());
    this.sum = this.layout.newBuffer();
  }

  async step(batch: Batch): Promise<StepFigures> {
    if (this.parted) throw new Error('This trainer stepped without exchanging gradients; its copies no longer agree.');
    const threads = this.threads ?? (this.threads = await this.startThreads());
    const parts = splitBatch(batch, this.threadCount);
    const seed = this.main.nextDropoutSeed();
    // Drawn from the whole batch, so that every thread scores the same words.
    const candidates = this.main.candidates(batch, seed);
    // The other threads start on their lanes before this one blocks on its own.
    const replies = parts.slice(1).map((part, i) => threads[i].gradients(part, seed, candidates));
    const own = this.main.gradients(parts[0], seed, candidates);
    const present = this.layout.write(this.variables, own.gradients, this.buffers[0]);
    tf.dispose(Object.values(own.gradients));
    const others = await Promise.all(replies);
    const total = batch.targets.length;
    const weights = parts.map((part) => part.targets.length / total);
    // A thread that had no lanes this step may still be reading the last sum.
    await Promise.all(this.applying);
    this.layout.weightedSum(this.buffers.slice(0, parts.length), weights, present, this.sum);
    // Every thread, also one that had no lanes this time (a batch of fewer lanes than threads): all copies stay equal.
    this.applying = threads.map((thread) => thread.update(present));
    this.main.update(this.layout.read(this.variables, this.sum, present));
    const lossSum = others.reduce((s, o) => s + o.lossSum, own.lossSum);
    const correct = others.reduce((s, o) => s + o.top1, own.top1);
    return { loss: lossSum / total, correct };
  }

  /**
   * For the scaling bench only: every thread trains its copy on its own lanes and nothing
   * is exchanged, so the copies part ways (and `step` refuses from then on). The time this
   * takes is the split step's work alone, side by side on the cores: how fast a step could
   * be if the exchange cost nothing, on this machine.
   */
  async stepWithoutExchange(batch: Batch): Promise<void> {
    this.parted = true;
    const threads = this.threads ?? (this.threads = await this.startThreads());
    const parts = splitBatch(batch, this.threadCount);
    const seed = this.main.nextDropoutSeed();
    const candidates = this.main.candidates(batch, seed);
    const replies = parts.slice(1).map((part, i) => threads[i].trainAlone(part, seed, candidates));
    this.main.update(this.main.gradients(parts[0], seed, candidates).gradients);
    await Promise.all(replies);
  }

  get sampling(): boolean {
    return this.main.sampling;
  }

  /** The candidates come from this thread: the others follow without being told. */
  useFullSoftmax(): void {
    this.main.useFullSoftmax();
  }

  scaleLearningRate(factor: number): void {
    this.main.scaleLearningRate(factor);
    for (const thread of this.threads ?? []) thread.send({ type: 'scale-learning-rate', factor });
  }

  checkpoint(): TrainerCheckpoint {
    return this.main.checkpoint();
  }

  /** Before the first step only (a resumed run): the threads then start from this state. */
  restore(state: TrainerCheckpoint): void {
    if (this.threads) throw new Error('A data-parallel trainer restores before its first step.');
    this.main.restore(state);
  }

  /** Every thread's copy of the weights, this one's first (the tests check that they agree). */
  async weightsOfEveryThread(): Promise<Float32Array[][]> {
    const own = this.variables.map((v) => v.dataSync().slice() as Float32Array);
    return [own, ...(await Promise.all((this.threads ?? []).map((thread) => thread.weights())))];
  }

  dispose(): void {
    this.main.dispose();
    for (const thread of this.threads ?? []) thread.stop();
    this.threads = undefined;
  }

  private async startThreads(): Promise<TrainingThread[]> {
    const backend = activeBackend();
    if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`Data-parallel training runs on wasm and cpu, not on ${backend}.`);
    const start = (i: number): ThreadStart => ({
      [TRAINING_THREAD_MARK]: true,
      backend,
      topology: this.model.toJSON(null, false),
      weights: this.variables.map((v) => v.dataSync().slice() as Float32Array),
      optimizer: this.main.checkpoint().optimizer,
      // The threads score the candidates this one draws; they need no sampler of their own.
      settings: { ...this.settings, sampledSoftmax: undefined },
      gradients: this.buffers[i],
      sum: this.sum,
    });
    const threads: TrainingThread[] = [];
    try {
      for (let i = 1; i < this.threadCount; i++) threads.push(new TrainingThread(start(i)));
      await Promise.all(threads.map((thread) => thread.ready));
      return threads;
    } catch (error) {
      for (const thread of threads) thread.stop();
      throw error;
    }
  }
}

/** One worker thread and the replies it owes, answered in the order asked. */
class TrainingThread {
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly waiting: { type: FromThread['type']; resolve(message: FromThread): void; reject(error: Error): void }[] = [];
  private failure: Error | undefined;

  constructor(start: ThreadStart) {
    const script = threadScript();
    this.worker = new Worker(script.code, { eval: script.eval, workerData: start });
    this.ready = this.expect('ready').then(() => undefined);
    this.worker.on('message', (message: FromThread) => {
      if (message.type === 'failed') return this.fail(new Error(`A training thread failed: ${message.message}`));
      const next = this.waiting.shift();
      if (next?.type === message.type) next.resolve(message);
      else this.fail(new Error(`A training thread answered "${message.type}" out of turn.`));
    });
    this.worker.on('error', (error) => this.fail(new Error(`A training thread failed: ${error.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`A training thread stopped (exit code ${code}).`)));
  }

  /**
   * Applies the sum buffer's update; resolves when the thread has read it. A failure
   * resolves it too: it surfaces at the thread's next reply, and nothing may wait on a
   * stopped thread.
   */
  update(present: boolean[]): Promise<void> {
    const reply = this.expect('updated');
    this.send({ type: 'update', present });
    return reply.then(
      () => undefined,
      () => undefined,
    );
  }

  gradients(batch: Batch, seed: number, candidates: Candidates | undefined): Promise<{ lossSum: number; top1: number }> {
    const reply = this.expect('gradients');
    this.send({ type: 'gradients', batch: lanesOnly(batch), seed, candidates });
    return reply as Promise<Extract<FromThread, { type: 'gradients' }>>;
  }

  async trainAlone(batch: Batch, seed: number, candidates: Candidates | undefined): Promise<void> {
    const reply = this.expect('trained-alone');
    this.send({ type: 'train-alone', batch: lanesOnly(batch), seed, candidates });
    await reply;
  }

  async weights(): Promise<Float32Array[]> {
    const reply = this.expect('weights');
    this.send({ type: 'weights' });
    return ((await reply) as Extract<FromThread, { type: 'weights' }>).weights;
  }

  send(message: ToThread): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  stop(): void {
    this.failure ??= new Error('The training thread was stopped.');
    void this.worker.terminate();
  }

  private expect(type: FromThread['type']): Promise<FromThread> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ type, resolve, reject }));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.waiting.splice(0)) waiting.reject(this.failure);
  }
}

/** A copy of a part's lanes only, to send to a thread: a view would carry its whole buffer across. */
function lanesOnly(batch: Batch): Batch {
  return { ...batch, inputs: batch.inputs.slice(), targets: batch.targets.slice(), starts: batch.starts?.slice(), before: batch.before?.slice() };
}

/**
 * What a training thread runs: the engine's bundle (dist/server.js, whose entry point sees
 * the mark in workerData), next to this code when it is bundled; from the sources (tests
 * under tsx) the thread's module, loaded through tsx.
 */
function threadScript(): { code: string; eval: boolean } {
  const bundle = path.join(__dirname, 'server.js');
  if (fs.existsSync(bundle)) return { code: bundle, eval: false };
  const source = path.join(__dirname, 'thread.ts');
  const load = `const load = require('node:module').createRequire(${JSON.stringify(source)}); load('tsx/cjs'); load(${JSON.stringify(source)});`;
  return { code: load, eval: true };
}
