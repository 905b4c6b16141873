/**
 * A training thread of a data-parallel run: it holds a copy of the model and its own
 * optimizer, computes the gradients of the lanes it is given, and applies the whole
 * batch's gradients that the trainer sums, so its weights stay those of the main thread
 * (the same numbers through the same kernels).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { FastTrainer } from '../fast/trainer';
import { silenceOrthogonalWarning } from '../model';
import { GradientLayout } from './gradients';
import type { FromThread, ThreadStart, ToThread } from './messages';

async function start(init: ThreadStart): Promise<void> {
  const port = parentPort!;
  const send = (message: FromThread) => port.postMessage(message);
  try {
    await initBackend(init.backend);
    silenceOrthogonalWarning(); // building the copy initialises weights that are then replaced
    const model = await tf.models.modelFromJSON({ modelTopology: init.topology as tf.io.ModelJSON['modelTopology'] });
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    variables.forEach((v, i) => v.assign(tf.tensor(init.weights[i], v.shape)));
    const layout = GradientLayout.of(variables);
    const trainer = new FastTrainer(model, variables, init.settings);
    if (init.optimizer) trainer.restore({ optimizer: init.optimizer, dropout: 0 });
    port.on('message', (message: ToThread) => {
      try {
        switch (message.type) {
          case 'gradients': {
            const { lossSum, top1, gradients } = trainer.gradients(message.batch, message.seed, message.candidates);
            const present = layout.write(variables, gradients, init.gradients);
            tf.dispose(Object.values(gradients));
            send({ type: 'gradients', lossSum, top1, present });
            break;
          }
          case 'update':
            trainer.update(layout.read(variables, init.sum, message.present));
            send({ type: 'updated' });
            break;
          case 'train-alone': {
            const { gradients } = trainer.gradients(message.batch, message.seed, message.candidates);
            trainer.update(gradients);
            send({ type: 'trained-alone' });
            break;
          }
          case 'scale-learning-rate':
            trainer.scaleLearningRate(message.factor);
            break;
          case 'weights':
            send({ type: 'weights', weights: variables.map((v) => v.dataSync().slice() as Float32Array) });
            break;
        }
      } catch (error) {
        send({ type: 'failed', message: (error as Error).message });
      }
    });
    send({ type: 'ready' });
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
  }
}

void start(workerData as ThreadStart);
