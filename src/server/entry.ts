/**
 * The engine's one bundle, dist/server.js: the language server in the process the
 * extension starts, and a training run in each worker process the engine (jobs.ts) starts
 * from this same file with a flag. One bundle ships TF.js once instead of twice.
 */
import { TRAINING_JOB_FLAG } from './jobs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
if (process.argv.includes(TRAINING_JOB_FLAG)) require('./trainWorker');
// eslint-disable-next-line @typescript-eslint/no-require-imports
else require('./main');
