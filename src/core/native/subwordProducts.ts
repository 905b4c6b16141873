/**
 * The two sparse products of subword vectors (subwordVectors.ts) on native TensorFlow:
 * G's gradient Mᵀ·g and the embeddings' update E + M·ΔG, each one graph around
 * TensorFlow's SparseSegmentSum, the kernel it uses for bags of embeddings.
 *
 * M's nonzeros are the word's weight (1/√ its groups) at (word, group), the same for every
 * group of a word, so M = diag(weights)·S with S of ones: Mᵀ·g = Sᵀ·(weights ⊙ g) and
 * M·ΔG = weights ⊙ (S·ΔG), and S's products are sums of rows by segment. The fast path's
 * kernel would run on copies of every input and output in JavaScript here, and TensorFlow's
 * SparseTensorDenseMatMul, or a gather and a segment sum, took about 37 ms a product at
 * the novel's 7,079 words (80,000 nonzeros, rows of 128): one epoch trained at 2,800
 * tokens/s or less, against 5,000 this way.
 */
import * as tf from '@tensorflow/tfjs';
import { Graph, type Sym } from './graph';
import { cachedGraph } from './session';

export interface SubwordStructure {
  groups: number;
  starts: Int32Array;
  groupIds: Int32Array;
  weights: Float32Array;
}

export class NativeSubwordProducts {
  /** Each word's weight [V, 1] (0 for words without shared groups, which have no nonzeros). */
  private readonly wordWeights: tf.Tensor2D;
  /** The nonzeros in word order: the groups read and the words they sum into (sorted, as segments must be). */
  private readonly byWord: { groups: tf.Tensor1D; words: tf.Tensor1D };
  /** The nonzeros in group order: the words read and the groups they sum into (sorted). */
  private readonly byGroup: { words: tf.Tensor1D; groups: tf.Tensor1D };

  constructor(private readonly structure: SubwordStructure) {
    const { starts, groupIds, weights } = structure;
    const vocab = starts.length - 1;
    const wordOf = new Int32Array(groupIds.length);
    const wordWeights = new Float32Array(vocab);
    for (let word = 0; word < vocab; word++) {
      wordOf.fill(word, starts[word], starts[word + 1]);
      if (starts[word + 1] > starts[word]) wordWeights[word] = weights[starts[word]];
      for (let k = starts[word]; k < starts[word + 1]; k++) {
        if (weights[k] !== wordWeights[word]) throw new Error(`Word ${word}'s letter groups have different weights: the native products need one per word.`);
      }
    }
    const order = Array.from(groupIds.keys()).sort((a, b) => groupIds[a] - groupIds[b] || a - b);
    this.wordWeights = tf.tensor2d(wordWeights, [vocab, 1]);
    this.byWord = { groups: tf.tensor1d(groupIds, 'int32'), words: tf.tensor1d(wordOf, 'int32') };
    this.byGroup = { words: tf.tensor1d(order.map((k) => wordOf[k]), 'int32'), groups: tf.tensor1d(order.map((k) => groupIds[k]), 'int32') };
  }

  /** Mᵀ·g [groups, size] for the embeddings' gradient g [V, size]. */
  gradient(g: tf.Tensor2D): tf.Tensor2D {
    const [vocab, size] = g.shape;
    const graph = this.graph('gradient', size, (graph, rows, weights, read, into) =>
      segmentSum(graph, graph.mul(graph.input('g', [vocab, size]), weights), read, into, rows),
    );
    return graph.run([this.wordWeights, this.byGroup.words, this.byGroup.groups, g])[0] as tf.Tensor2D;
  }

  /** E + M·ΔG [V, size]. */
  addStep(embeddings: tf.Tensor2D, step: tf.Tensor2D): tf.Tensor2D {
    const [vocab, size] = embeddings.shape;
    const graph = this.graph('add step', size, (graph, rows, weights, read, into) => {
      const sums = segmentSum(graph, graph.input('step', [this.structure.groups, size]), read, into, rows);
      return graph.add(graph.input('embeddings', [vocab, size]), graph.mul(weights, sums));
    });
    return graph.run([this.wordWeights, this.byWord.groups, this.byWord.words, step, embeddings])[0] as tf.Tensor2D;
  }

  dispose(): void {
    tf.dispose([this.wordWeights, this.byWord.groups, this.byWord.words, this.byGroup.words, this.byGroup.groups]);
  }

  /**
   * The session of one product, fed the word weights, the rows read and the segments they
   * sum into (in that order, then the graph's own inputs).
   */
  private graph(kind: 'gradient' | 'add step', size: number, body: (g: Graph, rows: number, weights: Sym, read: Sym, into: Sym) => Sym) {
    const vocab = this.structure.starts.length - 1;
    const { groups } = this.structure;
    const count = this.structure.groupIds.length;
    const rows = kind === 'gradient' ? groups : vocab;
    return cachedGraph(JSON.stringify({ kind: `subword ${kind}`, vocab, groups, count, size }), () => {
      const g = new Graph();
      const weights = g.input('word_weights', [vocab, 1]);
      const read = g.input('read', [count], 'int32');
      const into = g.input('into', [count], 'int32');
      return { graph: g, outputs: [body(g, rows, weights, read, into)] };
    });
  }
}

/** Rows of `data` at `read`, summed into `rows` rows by `into` (sorted). */
function segmentSum(g: Graph, data: Sym, read: Sym, into: Sym, rows: number): Sym {
  return g.op('SparseSegmentSumWithNumSegments', [data, read, into, g.constant([rows], [], 'int32')], { T: { type: 'float32' } }, [[rows, data.shape[1]]])[0];
}
