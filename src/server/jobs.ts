/**
 * Training jobs: one worker thread per run, at most `maxConcurrent` at once, the rest
 * waiting in order. A worker that throws or exits without reporting a result is reported
 * as a crash of its own job only; the engine goes on.
 */
import * as nodePath from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EngineMessage, TrainJobData, WorkerMessage } from './workerProtocol';

export interface JobEvents {
  /** The job left the queue and its worker started. */
  onStart(): void;
  onMessage(message: WorkerMessage): void;
  /** The worker ended without a 'done' or 'failed' message; `reason` is one sentence. */
  onCrash(reason: string): void;
  /** Something the worker printed (a library's warning, say): for the log only. */
  onOutput(text: string): void;
}

interface Job {
  id: string;
  data: TrainJobData;
  events: JobEvents;
  worker?: Worker;
  /** A 'done' or 'failed' message arrived: a later exit is the normal end. */
  reported: boolean;
  /** Killed on purpose (delete, shutdown): its exit is not a crash. */
  killed: boolean;
  /** Why the worker died, when an uncaught error said so before the exit. */
  crashReason?: string;
  exited: Promise<void>;
  markExited: () => void;
}

/** The engine's bundle, which runs a training job when started as a worker thread (entry.ts). */
export const TRAIN_WORKER_PATH = nodePath.join(__dirname, 'server.js');

export class JobQueue {
  private readonly queued: Job[] = [];
  private readonly running = new Map<string, Job>();

  constructor(
    private maxConcurrent: number,
    private readonly workerPath = TRAIN_WORKER_PATH,
  ) {}

  enqueue(id: string, data: TrainJobData, events: JobEvents): void {
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    this.queued.push({ id, data, events, reported: false, killed: false, exited, markExited });
    this.pump();
  }

  isQueued(id: string): boolean {
    return this.queued.some((job) => job.id === id);
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  /** Ids of every queued and running job. */
  ids(): string[] {
    return [...this.running.keys(), ...this.queued.map((job) => job.id)];
  }

  /**
   * Stops a job: a queued one is dropped ('dequeued'); a running one is asked to stop
   * before its next batch and then reports 'done' with its best epoch ('stopping').
   */
  stop(id: string): 'dequeued' | 'stopping' | 'unknown' {
    const index = this.queued.findIndex((job) => job.id === id);
    if (index >= 0) {
      this.queued.splice(index, 1);
      return 'dequeued';
    }
    const job = this.running.get(id);
    if (!job) return 'unknown';
    job.worker!.postMessage({ type: 'stop' } satisfies EngineMessage);
    return 'stopping';
  }

  /** Ends a job at once, without a result (its run is being deleted). */
  async kill(id: string): Promise<void> {
    if (this.stop(id) !== 'stopping') return;
    const job = this.running.get(id)!;
    job.killed = true;
    await job.worker!.terminate();
    await job.exited;
  }

  setMaxConcurrent(value: number): void {
    this.maxConcurrent = value;
    this.pump();
  }

  /** Asks every running job to stop, waits up to `graceMs` for them to save, then kills the rest. */
  async shutdown(graceMs: number): Promise<void> {
    this.queued.length = 0;
    const jobs = [...this.running.values()];
    jobs.forEach((job) => job.worker!.postMessage({ type: 'stop' } satisfies EngineMessage));
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(jobs.map((job) => job.exited)), grace]);
    await Promise.all(
      [...this.running.values()].map((job) => {
        job.killed = true;
        return job.worker!.terminate();
      }),
    );
  }

  private pump(): void {
    while (this.running.size < this.maxConcurrent && this.queued.length > 0) {
      this.start(this.queued.shift()!);
    }
  }

  private start(job: Job): void {
    this.running.set(job.id, job);
    try {
      // Printed output is captured: with --stdio, a worker's stdout would otherwise land
      // in the engine's stdout, which carries the LSP messages.
      job.worker = new Worker(this.workerPath, { workerData: job.data, stdout: true, stderr: true });
    } catch (error) {
      this.running.delete(job.id);
      job.markExited();
      job.events.onCrash(`The training worker could not start (${(error as Error).message}).`);
      this.pump();
      return;
    }
    job.events.onStart();
    for (const stream of [job.worker.stdout, job.worker.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => job.events.onOutput(text.trimEnd()));
    }
    job.worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'done' || message.type === 'failed') {
        job.reported = true;
        // The run's files are all written before its result is posted. The thread would not
        // end on its own (TF.js keeps handles open), and it would hold a slot of the queue.
        void job.worker!.terminate();
      }
      job.events.onMessage(message);
    });
    job.worker.on('error', (error) => {
      job.crashReason = `The training worker crashed (${error.message.replace(/\.$/, '')}).`;
    });
    job.worker.on('exit', (code) => {
      this.running.delete(job.id);
      job.markExited();
      if (!job.reported && !job.killed) {
        job.events.onCrash(job.crashReason ?? `The training worker stopped unexpectedly (exit code ${code}).`);
      }
      this.pump();
    });
  }
}
