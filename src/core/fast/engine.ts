/**
 * Which implementation trains and scores: SeqLab's fast path or the stock `tf.layers`
 * one. Both compute the same function on the same variables; the stock path stays as
 * the reference the benchmark measures against and as a fallback.
 */
import * as tf from '@tensorflow/tfjs';

export type Engine = 'fast' | 'stock';
export const ENGINES: readonly Engine[] = ['fast', 'stock'];

/**
 * The fast path's kernels work on the tensors' memory in place on wasm and cpu. On other
 * backends (native TensorFlow through tfjs-node) they would copy every tensor in and out,
 * and the stock ops run natively there anyway, so those keep the stock path.
 */
const IN_PLACE_BACKENDS = ['wasm', 'cpu'];

/** The engine that will run for a request on the active backend. */
export function resolveEngine(requested: Engine = 'fast'): Engine {
  return requested === 'fast' && IN_PLACE_BACKENDS.includes(tf.getBackend()) ? 'fast' : 'stock';
}
