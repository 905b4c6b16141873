/**
 * A training worker thread: trains one run with core `trainRun` and reports everything
 * it does to the engine as messages. It runs in its own thread because TensorFlow.js
 * runs ops synchronously: the engine thread must stay free to answer the editor.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import { isUserError } from '../core/errors';
import { Predictor, type GenerateOptions } from '../core/predictor';
import { prepareText, resumeRun, samplePrompt, trainRun, type RunCallbacks } from '../core/run';
import type { Tokenizer } from '../core/tokenizer';
import type { EngineMessage, TrainJobData, WorkerMessage } from './workerProtocol';

/**
 * Test hook: a run whose text is named like this variable's value kills its worker after
 * the first batch, as a crash would (tests check that only that run fails).
 */
const CRASH_HOOK = 'SEQLAB_TEST_CRASH_WORKER';

async function main(port: NonNullable<typeof parentPort>, data: TrainJobData): Promise<void> {
  const post = (message: WorkerMessage) => port.postMessage(message);
  const stop = new AbortController();
  port.on('message', (message: EngineMessage) => {
    if (message.type === 'stop') stop.abort();
  });
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
        if (crash) process.exit(70);
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
    post({
      type: 'failed',
      message: isUserError(error) ? error.message : `Training failed because of an internal error (${(error as Error).message}).`,
      detail: (error as Error).stack,
    });
  }
  // The engine ends this thread when it has the result.
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

if (!parentPort) throw new Error('The training worker runs only as a worker thread of the SeqLab engine.');
void main(parentPort, workerData as TrainJobData);
