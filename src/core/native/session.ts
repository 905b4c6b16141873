/**
 * Runs a built Graph in a TensorFlow session of tfjs-node's C API: the graph goes to a
 * temporary SavedModel folder, TensorFlow loads it (and optimises it once), and every run
 * feeds the graph's inputs and fetches the named outputs as ordinary TF.js tensors, which
 * `tf.tidy` tracks like any other.
 *
 * Sessions are cached by a key that names what the graph computes and its shapes, so a
 * training run builds each graph once; the least recently used are closed past a few.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Graph, Sym } from './graph';
import { nativeBackendActive } from './ops';
import { savedModelBytes } from './savedModel';

/** The parts of tfjs-node's backend and binding used here (not in TF.js' public types). */
interface SessionBackend {
  binding: {
    loadSavedModel(folder: string, tags: string): number;
    runSavedModel(session: number, inputIds: number[], inputNames: string, outputNames: string): unknown[];
    deleteSavedModel(session: number): void;
  };
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  createOutputTensor(metadata: unknown): tf.Tensor;
}

export class CompiledGraph {
  private readonly inputNames: string;
  private readonly outputNames: string;
  private closed = false;

  constructor(
    private readonly backend: SessionBackend,
    private readonly session: number,
    private readonly inputs: Sym[],
    outputs: Sym[],
  ) {
    this.inputNames = inputs.map((input) => input.ref).join(',');
    this.outputNames = outputs.map((output) => output.ref).join(',');
  }

  /** Feeds `feeds` (in the order of the graph's inputs) and returns the outputs, in the order compiled. */
  run(feeds: tf.Tensor[]): tf.Tensor[] {
    if (feeds.length !== this.inputs.length) throw new Error(`The graph takes ${this.inputs.length} inputs, not ${feeds.length}.`);
    feeds.forEach((feed, i) => {
      const want = this.inputs[i].shape;
      if (feed.rank !== want.length || want.some((d, axis) => d >= 0 && d !== feed.shape[axis])) {
        throw new Error(`Graph input ${this.inputs[i].ref} is [${want}], fed [${feed.shape}].`);
      }
    });
    const outputs = this.backend.binding.runSavedModel(this.session, this.backend.getInputTensorIds(feeds), this.inputNames, this.outputNames);
    return outputs.map((metadata) => this.backend.createOutputTensor(metadata));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backend.binding.deleteSavedModel(this.session);
  }
}

/** Loads `graph` into a new session that computes `outputs`. */
export function compileGraph(graph: Graph, outputs: Sym[]): CompiledGraph {
  if (!nativeBackendActive()) throw new Error('TensorFlow graphs run on the tensorflow backend (@tensorflow/tfjs-node) only.');
  const backend = tf.backend() as unknown as SessionBackend;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-graph-'));
  try {
    fs.mkdirSync(path.join(folder, 'variables'));
    fs.writeFileSync(path.join(folder, 'saved_model.pb'), savedModelBytes(graph.nodes));
    const session = backend.binding.loadSavedModel(folder, 'serve');
    return new CompiledGraph(backend, session, graph.inputs, outputs);
  } finally {
    // The session holds the graph in memory once loaded.
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** Sessions open at once; a run uses a handful (training, validation, a last short batch). */
const CACHED_SESSIONS = 16;
const cache = new Map<string, CompiledGraph>();

/** The session for `key`, built by `build` the first time. */
export function cachedGraph(key: string, build: () => { graph: Graph; outputs: Sym[] }): CompiledGraph {
  const found = cache.get(key);
  if (found) {
    // Most recently used last.
    cache.delete(key);
    cache.set(key, found);
    return found;
  }
  const { graph, outputs } = build();
  const compiled = compileGraph(graph, outputs);
  cache.set(key, compiled);
  if (cache.size > CACHED_SESSIONS) {
    const [oldestKey, oldest] = cache.entries().next().value as [string, CompiledGraph];
    cache.delete(oldestKey);
    oldest.close();
  }
  return compiled;
}
