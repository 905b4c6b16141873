/**
 * Whether the native TensorFlow backend (@tensorflow/tfjs-node) runs, where the network and
 * the optimizer run as TensorFlow graphs (network.ts, adam.ts) instead of SeqLab's kernels.
 */
import * as tf from '@tensorflow/tfjs';

/** True when the active backend is native TensorFlow. */
export function nativeBackendActive(): boolean {
  return tf.getBackend() === 'tensorflow';
}
