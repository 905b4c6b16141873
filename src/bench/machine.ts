/** What a reader needs to compare benchmark runs: the machine, the backend, the versions. */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { SEQLAB_VERSION } from '../core/version';

export interface MachineFigures {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  tfjs: string;
  backend: string;
  seqlab: string;
}

export function describeMachine(): MachineFigures {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    seqlab: SEQLAB_VERSION,
  };
}
