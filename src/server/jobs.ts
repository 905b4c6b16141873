/**
 * Training jobs: one worker process per run, at most `maxConcurrent` at once, the rest
 * waiting in order. A worker that throws or exits without reporting a result is reported
 * as a crash of its own job only; the engine goes on.
 *
 * Processes, not worker threads: a training run loads native code (TensorFlow's C library,
 * WebAssembly kernels), and a fault there, or the system killing a run that ran out of
 * memory, must end that run only, never the engine that serves the editor. Threads share
 * the engine's process, and Node can crash as a whole when threads running native code are
 * terminated while others start.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { CORES_VARIABLE } from '../core/cores';
import { nativeWorkerEnvironment } from '../core/backend';
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
  worker?: ChildProcess;
  /** A 'done' or 'failed' message arrived: a later exit is the normal end. */
  reported: boolean;
  /** Killed on purpose (delete, shutdown): its exit is not a crash. */
  killed: boolean;
  /** Why the worker died, when an uncaught error said so before the exit. */
  crashReason?: string;
  exited: Promise<void>;
  markExited: () => void;
}

/** The engine's bundle, which runs a training job when started with TRAINING_JOB_FLAG (entry.ts). */
export const TRAIN_WORKER_PATH = nodePath.join(__dirname, 'server.js');
export const TRAINING_JOB_FLAG = '--training-job';

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
    send(job, { type: 'stop' });
    return 'stopping';
  }

  /** Ends a job at once, without a result (its run is being deleted). */
  async kill(id: string): Promise<void> {
    if (this.stop(id) !== 'stopping') return;
    const job = this.running.get(id)!;
    job.killed = true;
    job.worker!.kill('SIGKILL');
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
    jobs.forEach((job) => send(job, { type: 'stop' }));
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(jobs.map((job) => job.exited)), grace]);
    const late = [...this.running.values()];
    late.forEach((job) => {
      job.killed = true;
      job.worker!.kill('SIGKILL');
    });
    await Promise.all(late.map((job) => job.exited));
  }

  private pump(): void {
    while (this.running.size < this.maxConcurrent && this.queued.length > 0) {
      this.start(this.queued.shift()!);
    }
  }

  private start(job: Job): void {
    this.running.set(job.id, job);
    // Printed output is captured: with --stdio, a worker's stdout would otherwise land in
    // the engine's stdout, which carries the LSP messages. 'advanced' serialization keeps
    // messages as they are (typed arrays, undefined) instead of going through JSON.
    const worker = fork(this.workerPath, [TRAINING_JOB_FLAG], {
      env: { ...process.env, ...nativeWorkerEnvironment(), [CORES_VARIABLE]: String(this.coresPerJob()) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      // A debugger flag of the engine's would make every worker fight for the same port.
      execArgv: process.execArgv.filter((arg) => !arg.startsWith('--inspect')),
    });
    job.worker = worker;
    job.events.onStart();
    for (const stream of [worker.stdout!, worker.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => job.events.onOutput(text.trimEnd()));
    }
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'done' || message.type === 'failed') {
        job.reported = true;
        // The run's files are all written before its result is sent. The process would not
        // end on its own (TF.js keeps handles open), and it would hold a slot of the queue.
        worker.kill();
      }
      job.events.onMessage(message);
    });
    worker.on('error', (error) => {
      // The process could not start, or could not be signalled: it may never exit.
      job.crashReason = `The training worker could not start (${error.message.replace(/\.$/, '')}).`;
      if (worker.exitCode === null && worker.signalCode === null && worker.pid === undefined) this.ended(job, null, null);
    });
    worker.on('exit', (code, signal) => this.ended(job, code, signal));
    send(job, { type: 'job', data: job.data });
  }

  /**
   * The cores a job starting now may use for itself: an even share among the jobs that will
   * train side by side (a run on more threads than that would only slow its neighbours).
   */
  private coresPerJob(): number {
    const sideBySide = Math.max(1, Math.min(this.maxConcurrent, this.running.size + this.queued.length));
    return Math.max(1, Math.floor(os.availableParallelism() / sideBySide));
  }

  private ended(job: Job, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.running.has(job.id)) return;
    this.running.delete(job.id);
    job.markExited();
    if (!job.reported && !job.killed) job.events.onCrash(job.crashReason ?? crashReason(code, signal));
    this.pump();
  }
}

/** Sends a message to a job's worker; one that has just died cannot take it, and its exit reports that. */
function send(job: Job, message: EngineMessage): void {
  if (job.worker?.connected) job.worker.send(message, () => undefined);
}

/** One sentence for a person on how a worker died without a result. */
export function crashReason(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGKILL') return 'The training worker was killed (SIGKILL), most often by the system because memory ran out.';
  if (signal) return `The training worker crashed (${signal}).`;
  return `The training worker stopped unexpectedly (exit code ${code}).`;
}
