/**
 * `seqlab compare` on every core: each cell trains in its own worker process (the engine's
 * training worker and queue, src/server/jobs.ts), as many at once as there are cores, and
 * the summaries come back in the order of the cells. On wasm a run keeps one core busy, so
 * three cells on two cores take about two runs' time instead of three.
 */
import * as fs from 'node:fs/promises';
import { RunWriter } from '../core/store';
import { UserError } from '../core/errors';
import { runFolderName } from '../core/run';
import type { TrainConfig, TrainSummary } from '../protocol/types';
import { JobQueue } from '../server/jobs';
import type { ProgressReporter } from './progress';

export interface RunInput {
  text: string;
  name: string;
  sources: string[];
}

/**
 * Trains one run per config in worker processes, at most `concurrency` at once. On Ctrl+C
 * (`signal`) the running ones stop and keep their best epoch and the waiting ones never
 * start; the summaries are those of the runs that trained.
 */
export async function trainInWorkers(
  configs: TrainConfig[],
  input: RunInput,
  runsDir: string,
  concurrency: number,
  reporters: ProgressReporter[],
  signal: AbortSignal,
): Promise<TrainSummary[]> {
  const queue = new JobQueue(concurrency);
  const dropped = new Map<string, () => void>();
  const stopAll = () => {
    for (const [id, drop] of dropped) if (queue.stop(id) === 'dequeued') drop();
  };
  signal.addEventListener('abort', stopAll, { once: true });
  try {
    // Claimed in order, so the run folders are named in the order of the cells.
    const dirs: string[] = [];
    for (const config of configs) dirs.push((await RunWriter.createNew(runsDir, runFolderName(input.name, config.cell))).dir);
    const results = await Promise.all(
      configs.map(
        (config, i) =>
          new Promise<TrainSummary | undefined>((resolve, reject) => {
            const dir = dirs[i];
            const reporter = reporters[i];
            // A run that never started leaves no folder behind.
            dropped.set(dir, () => void fs.rm(dir, { recursive: true, force: true }).then(() => resolve(undefined)));
            queue.enqueue(
              dir,
              { request: { ...input, config, runsDir, runName: dir, dir } },
              {
                onStart: () => dropped.delete(dir),
                onMessage: (message) => {
                  if (message.type === 'start') reporter.start(message.start);
                  else if (message.type === 'epoch') reporter.epoch(message.metrics);
                  else if (message.type === 'done') resolve(message.summary);
                  else if (message.type === 'failed') reject(new UserError(message.message));
                },
                onCrash: (reason) => reject(new UserError(`${config.cell}: ${reason}`)),
                onOutput: () => undefined,
              },
            );
          }),
      ),
    );
    return results.filter((summary): summary is TrainSummary => summary !== undefined);
  } finally {
    signal.removeEventListener('abort', stopAll);
  }
}
