/**
 * A training worker process: trains one run with core `trainRun` and reports everything
 * it does to the engine as messages. It runs apart from the engine because TensorFlow.js
 * runs ops synchronously (the engine must stay free to answer the editor), and in its own
 * process so that a crash of native code ends this run only (jobs.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import { isUserError } from '../core/errors';
import { Predictor, type GenerateOptions } from '../core/predictor';
import { prepareText, resumeRun, samplePrompt, trainRun, type RunCallbacks } from '../core/run';
import type { Tokenizer } from '../core/tokenizer';
import type { EngineMessage, TrainJobData, WorkerMessage } from './workerProtocol';

/**
 * Test hook: a run whose text is named like this variable's value crashes its worker after
 * the first batch, as a fault in native code would (tests check that only that run fails).
 */
const CRASH_HOOK = 'SEQLAB_TEST_CRASH_WORKER';

function post(message: WorkerMessage): void {
  if (process.connected) process.send!(message);
}

async function main(data: TrainJobData, stop: AbortController): Promise<void> {
  const crash = process.env[CRASH_HOOK] !== undefined && process.env[CRASH_HOOK] === data.request.name;
  try {
    const { request } = data;
    const prepared = prepareText(request.text, request.config, request.name);
    const prompt = samplePrompt(prepared);
    let trained: { model: tf.LayersModel; tokenizer: Tokenizer } | undefined;
    const callbacks: RunCallbacks = {
      onStart: (start) => post({ type: 'start', start }),
      onModel: (model, tokenizer) => (trained = { model, tokenizer }),
      onBatch: (progress) => {
        post({ type: 'batch', progress });
        if (crash) process.kill(process.pid, 'SIGSEGV');
      },
      onEpoch: (metrics) => {
        post({ type: 'epoch', metrics });
        const text = data.sample && trained && sample(trained.model, trained.tokenizer, prompt, data.sample);
        if (text !== undefined) post({ type: 'sample', epoch: metrics.epoch, text: prompt + text });
      },
    };
    const summary = data.resume
      ? await resumeRun(request.dir, request.text, callbacks, stop.signal, prepared)
      : await trainRun(request, callbacks, stop.signal, prepared);
    post({ type: 'done', summary });
  } catch (error) {
    post(failure(error));
  }
  // The engine ends this process when it has the result.
}

function failure(error: unknown): WorkerMessage {
  return {
    type: 'failed',
    message: isUserError(error) ? error.message : `Training failed because of an internal error (${(error as Error).message}).`,
    detail: (error as Error).stack,
  };
}

/** A continuation from the model as it is now; a failure here must not end the training. */
function sample(model: tf.LayersModel, tokenizer: Tokenizer, prompt: string, options: GenerateOptions): string | undefined {
  let predictor: Predictor | undefined;
  try {
    // A new predictor each time: it reads the weights as they are after this epoch.
    predictor = new Predictor(model, tokenizer);
    return predictor.generate(prompt, options).text;
  } catch {
    return undefined;
  } finally {
    predictor?.dispose();
  }
}

if (!process.send) throw new Error('The training worker runs only as a process started by the SeqLab engine.');
const stop = new AbortController();
process.on('message', (message: EngineMessage) => {
  if (message.type === 'job') void main(message.data, stop);
  else if (message.type === 'stop') stop.abort();
});
// An error outside the training loop (in a callback of a library, say) is this run's failure.
process.on('uncaughtException', (error) => {
  post(failure(error));
  process.exitCode = 1;
});
// The engine is gone (closed, or crashed): nothing would read this run's progress.
process.on('disconnect', () => process.exit(0));
