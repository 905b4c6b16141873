/**
 * The engine's one bundle, dist/server.js: the language server in the process the
 * extension starts, a training run in each worker process the engine (jobs.ts) starts
 * from this same file with a flag, and the worker threads of a data-parallel run
 * (core/parallel), marked in their workerData. One bundle ships TF.js once instead of
 * three times.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { TRAINING_JOB_FLAG } from './jobs';
import { TRAINING_THREAD_MARK } from '../core/parallel/messages';

// eslint-disable-next-line @typescript-eslint/no-require-imports
if (!isMainThread && (workerData as Record<string, unknown> | null)?.[TRAINING_THREAD_MARK]) require('../core/parallel/thread');
// eslint-disable-next-line @typescript-eslint/no-require-imports
else if (process.argv.includes(TRAINING_JOB_FLAG)) require('./trainWorker');
// eslint-disable-next-line @typescript-eslint/no-require-imports
else require('./main');
