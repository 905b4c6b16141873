/**
 * The engine's one bundle, dist/server.js: the language server in the process the
 * extension starts, and a training run in each worker thread the engine (jobs.ts) starts
 * from this same file. One bundle ships TF.js once instead of twice.
 */
import { isMainThread } from 'node:worker_threads';

// eslint-disable-next-line @typescript-eslint/no-require-imports
if (isMainThread) require('./main');
// eslint-disable-next-line @typescript-eslint/no-require-imports
else require('./trainWorker');
