/**
 * Which implementation trains and scores: SeqLab's fast path or the stock `tf.layers`
 * one. Both compute the same function on the same variables; the stock path stays as
 * the reference the benchmark measures against and as a fallback.
 */
import * as tf from '@tensorflow/tfjs';

export type Engine = 'fast' | 'stock';
export const ENGINES: readonly Engine[] = ['fast', 'stock'];

/**
 * The fast path runs SeqLab's in-place kernels on wasm and cpu and TensorFlow's own fused
 * ops on native TensorFlow (src/core/network.ts). Other backends (webgl, webgpu) keep the
 * stock path.
 */
const FAST_BACKENDS = ['wasm', 'cpu', 'tensorflow'];

/** The engine that will run for a request on the active backend. */
export function resolveEngine(requested: Engine = 'fast'): Engine {
  return requested === 'fast' && FAST_BACKENDS.includes(tf.getBackend()) ? 'fast' : 'stock';
}
