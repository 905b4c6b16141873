/**
 * The whole language model on native TensorFlow (the `tensorflow` backend): the fast
 * path's network (fast/network.ts) as TensorFlow graphs, one per kind of pass and batch
 * shape, built on first use and run by TensorFlow's executor (graph.ts, session.ts).
 *
 * Same model, same variables, same maths: Embedding (with its Dropout) → recurrent layers
 * (each with its Dropout) → Dense, every position predicting the next token, the backward
 * pass written out (cells.ts), the loss and its gradient from a log-softmax (graph.ts),
 * over the whole vocabulary or, on a sampled softmax, over the step's candidate words. The
 * weights, the batch, the dropout masks (the same as on every backend for the same seed,
 * fast/layout.ts) and the carried state are fed on every run.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../dataset';
import { readTargetLogProbabilities, timeMajorTensors, variableName } from '../networkInputs';
import { inputMaskSeed, layerMaskSeed, weightDropSeed } from '../dropoutSeeds';
import { dropoutMask, dropRecurrentWeights } from '../weightDrop';
import type { ModelParts } from '../model';
import type { LanguageNetwork, LayerState, ScoredBatch, TargetLogProbabilities, TrainingStep } from '../network';
import { UNKNOWN_ID } from '../tokenizer';
import { candidateTargets, figureRows, type Candidates } from '../fast/candidates';
import { batchLanes, toTimeMajor } from '../fast/layout';
import { makeGraphCell, stateSize, type GraphCell, type GraphState } from './cells';
import { Graph, type Sym } from './graph';
import { cachedGraph } from './session';
import { shiftTensors as shiftFeeds, type TargetShift } from '../distillation';

/** What a graph's forward pass is given: which dropout masks are fed, and whether a state is. */
interface ForwardPlan {
  rows: number;
  steps: number;
  withInitial: boolean;
  /** Training: masks are fed where the model has dropout. */
  training: boolean;
}

/** The symbols of the model's weights in a graph, in the order they are fed. */
interface GraphParts {
  embeddings: Sym;
  recurrent: { kernel: Sym; recurrentKernel: Sym; bias: Sym }[];
  outputKernel: Sym;
  outputBias: Sym;
}

export class NativeNetwork implements LanguageNetwork {
  constructor(
    readonly parts: ModelParts,
    readonly tiedWeights = false,
    /** Weight drop on the recurrent kernels while training (weightDrop.ts). */
    readonly weightDrop = 0,
  ) {}

  score(batch: Batch, withTop5: boolean, initial?: LayerState[]): ScoredBatch {
    const words = withTop5 ? 5 : 1;
    const { lossSum, ranked, state } = tf.tidy(() => {
      const plan = this.inferencePlan(batch, initial);
      const graph = cachedGraph(this.key('score', plan, { words }), () =>
        this.buildInference(plan, (g, logits, targets) => {
          const losses = g.crossEntropy(logits, targets);
          return [g.sum(losses, [0]), topIndices(g, logits, words)];
        }),
      );
      const [lossSum, ranked, ...state] = graph.run(this.inferenceFeeds(batch, initial));
      return { lossSum, ranked, state: this.layerStates(state) };
    });
    return { lossSum: readScalar(lossSum), ...accuracyCounts(readRanked(ranked as tf.Tensor2D), batch), state };
  }

  targetLogProbabilities(batch: Batch, initial?: LayerState[]): TargetLogProbabilities {
    const { values, top, state } = tf.tidy(() => {
      const plan = this.inferencePlan(batch, initial);
      const graph = cachedGraph(this.key('targetLogProbabilities', plan), () =>
        this.buildInference(plan, (g, logits, targets, top) => [g.neg(g.crossEntropy(logits, targets)), top]),
      );
      const [values, top, ...state] = graph.run(this.inferenceFeeds(batch, initial));
      return { values, top, state: this.layerStates(state) };
    });
    return readTargetLogProbabilities(values, top, state);
  }

  inferenceLogits(batch: Batch, initial?: LayerState[]): { logits: tf.Tensor2D; state: LayerState[] } {
    return tf.tidy(() => {
      const plan = this.inferencePlan(batch, initial);
      const graph = cachedGraph(this.key('logits', plan), () => this.buildInference(plan, (_, logits) => [logits]));
      const [logits, ...state] = graph.run(this.inferenceFeeds(batch, initial));
      return { logits: logits as tf.Tensor2D, state: this.layerStates(state) };
    });
  }

  trainingStep(batch: Batch, seed: number, initial?: LayerState[], candidates?: Candidates, shift?: TargetShift): TrainingStep {
    const { parts } = this;
    const result = tf.tidy(() => {
      const plan: ForwardPlan = { rows: batch.rows, steps: batch.seqLen, withInitial: initial !== undefined, training: true };
      const output = { sampled: candidates !== undefined, distilled: shift !== undefined };
      const graph = cachedGraph(this.key('train', plan, output), () => this.buildTraining(plan, output));
      const { ids, targets } = timeMajorTensors(batch);
      const masks = this.trainingMasks(batch, seed);
      const feeds = [...this.weightFeeds(masks.recurrentKernels), ids, targets, ...(initial?.flat() ?? []), ...masks.feeds];
      if (candidates) feeds.push(...sampledFeeds(toTimeMajor(batch.targets, batch.rows, batch.seqLen), candidates, parts.vocabSize));
      if (shift) feeds.push(...shiftFeeds(shift));
      const [lossSum, top1, ...rest] = graph.run(feeds);
      const gradients = rest.slice(0, this.trainedVariables().length);
      return { lossSum, top1, gradients, state: this.layerStates(rest.slice(gradients.length)) };
    });
    const gradients: tf.NamedTensorMap = {};
    this.trainedVariables().forEach((variable, i) => (gradients[variableName(variable)] = result.gradients[i]));
    return { lossSum: readScalar(result.lossSum), top1: Math.round(readScalar(result.top1)), top5: 0, gradients, state: result.state };
  }

  tieOutputKernel(): void {
    if (!this.tiedWeights) return;
    tf.tidy(() => (this.parts.outputKernel as tf.Variable).assign(tf.transpose(this.parts.embeddings)));
  }

  /** The variables a training step gives gradients for, in the order of its outputs (the output kernel is the embeddings when tied). */
  private trainedVariables(): tf.Tensor[] {
    const { parts } = this;
    return [
      parts.embeddings,
      ...parts.recurrent.flatMap((layer) => [layer.kernel, layer.recurrentKernel, layer.bias]),
      ...(this.tiedWeights ? [] : [parts.outputKernel]),
      parts.outputBias,
    ];
  }

  /** Names the graph: what it computes and every shape it was built for. */
  private key(kind: string, plan: ForwardPlan, extra: Record<string, unknown> = {}): string {
    const { cell, units, vocabSize, embeddings, recurrent, dropout, inputDropout } = this.parts;
    const model = { cell, units, vocabSize, embedding: embeddings.shape[1], layers: recurrent.length, dropout, inputDropout, tied: this.tiedWeights, weightDrop: this.weightDrop };
    return JSON.stringify({ kind, model, plan, extra });
  }

  private inferencePlan(batch: Batch, initial: LayerState[] | undefined): ForwardPlan {
    return { rows: batch.rows, steps: batch.seqLen, withInitial: initial !== undefined, training: false };
  }

  private inferenceFeeds(batch: Batch, initial: LayerState[] | undefined): tf.Tensor[] {
    const { ids, targets } = timeMajorTensors(batch);
    return [...this.weightFeeds(), ids, targets, ...(initial?.flat() ?? [])];
  }

  /** The graph's state outputs, flat, back into one array per layer. */
  private layerStates(flat: tf.Tensor[]): LayerState[] {
    const size = stateSize(this.parts.cell);
    return this.parts.recurrent.map((_, l) => flat.slice(l * size, (l + 1) * size) as tf.Tensor2D[]);
  }

  private weightFeeds(recurrentKernels?: tf.Tensor[]): tf.Tensor[] {
    const { parts } = this;
    return [
      parts.embeddings,
      ...parts.recurrent.flatMap((layer, l) => [layer.kernel, recurrentKernels?.[l] ?? layer.recurrentKernel, layer.bias]),
      parts.outputKernel,
      parts.outputBias,
    ];
  }

  /**
   * The batch's dropout, drawn as the fast path draws it (the same masks for the same seed):
   * the recurrent kernels with their weight drop applied (fed in place of the kernels), and
   * the masks the graph takes, in the order buildTraining declares them.
   */
  private trainingMasks(batch: Batch, seed: number): { recurrentKernels: tf.Tensor[]; feeds: tf.Tensor[] } {
    const { parts } = this;
    const rows = batch.rows * batch.seqLen;
    const feeds: tf.Tensor[] = [];
    const mask = (width: number, rate: number, maskSeed: number) => dropoutMask([rows, width], rate, maskSeed, batchLanes(batch));
    if (parts.inputDropout > 0) feeds.push(mask(parts.embeddings.shape[1], parts.inputDropout, inputMaskSeed(seed)));
    const recurrentKernels = parts.recurrent.map((layer, l) => {
      const dropped = dropRecurrentWeights(layer, this.weightDrop, weightDropSeed(seed, l));
      if (dropped) feeds.push(dropped.mask);
      if (parts.dropout[l] > 0) feeds.push(mask(parts.units, parts.dropout[l], layerMaskSeed(seed, l)));
      return dropped?.weights.recurrentKernel ?? layer.recurrentKernel;
    });
    return { recurrentKernels, feeds };
  }

  /** Declares the weights, the batch and the initial state as the graph's first inputs. */
  private declareInputs(g: Graph, plan: ForwardPlan): { weights: GraphParts; ids: Sym; targets: Sym; initial: GraphState[] } {
    const { parts } = this;
    const shapeOf = (t: tf.Tensor) => t.shape.slice();
    const weights: GraphParts = {
      embeddings: g.input('embeddings', shapeOf(parts.embeddings)),
      recurrent: parts.recurrent.map((layer, l) => ({
        kernel: g.input(`kernel_${l}`, shapeOf(layer.kernel)),
        recurrentKernel: g.input(`recurrent_kernel_${l}`, shapeOf(layer.recurrentKernel)),
        bias: g.input(`bias_${l}`, shapeOf(layer.bias)),
      })),
      outputKernel: g.input('output_kernel', shapeOf(parts.outputKernel)),
      outputBias: g.input('output_bias', shapeOf(parts.outputBias)),
    };
    const rows = plan.rows * plan.steps;
    const ids = g.input('ids', [rows], 'int32');
    const targets = g.input('targets', [rows], 'int32');
    const size = stateSize(parts.cell);
    const initial = parts.recurrent.map((_, l) =>
      Array.from({ length: size }, (_, k) => (plan.withInitial ? g.input(`state_${l}_${k}`, [plan.rows, parts.units]) : g.zeros([plan.rows, parts.units]))),
    );
    return { weights, ids, targets, initial };
  }

  /** A forward-only graph whose outputs are `head`'s, then every layer's final state. */
  private buildInference(plan: ForwardPlan, head: (g: Graph, logits: Sym, targets: Sym, top: Sym) => Sym[]): { graph: Graph; outputs: Sym[] } {
    const g = new Graph();
    const { weights, ids, targets, initial } = this.declareInputs(g, plan);
    const run = this.forward(g, weights, ids, initial, plan, {});
    const logits = this.logits(g, weights, run.top).logits;
    return { graph: g, outputs: [...head(g, logits, targets, run.top), ...run.state.flat()] };
  }

  /**
   * The training step's graph: forward, the output layer (full or sampled), backward. Its
   * outputs are the loss sum, the top-1 hits, the gradients of the mean loss in the order of
   * trainedVariables, then every layer's final state.
   */
  private buildTraining(plan: ForwardPlan, { sampled, distilled }: { sampled: boolean; distilled: boolean }): { graph: Graph; outputs: Sym[] } {
    const { parts } = this;
    const g = new Graph();
    const { weights, ids, targets, initial } = this.declareInputs(g, plan);
    const rows = plan.rows * plan.steps;
    // Masks in the order trainingMasks feeds them.
    const inputMask = parts.inputDropout > 0 ? g.input('input_mask', [rows, weights.embeddings.shape[1]]) : undefined;
    const layerMasks = parts.recurrent.map((layer, l) => ({
      weightDrop: this.weightDrop > 0 ? g.input(`weight_drop_${l}`, layer.recurrentKernel.shape.slice()) : undefined,
      output: parts.dropout[l] > 0 ? g.input(`dropout_${l}`, [rows, parts.units]) : undefined,
    }));
    const run = this.forward(g, weights, ids, initial, plan, { inputMask, outputMasks: layerMasks.map((m) => m.output) });
    const output = sampled ? this.sampledOutput(g, weights, run.top, targets, distilled) : this.fullOutput(g, weights, run.top, targets, distilled);
    const recurrentGradients: Sym[][] = [];
    let dOut = output.dInput;
    for (let l = run.layers.length - 1; l >= 0; l--) {
      const layer = run.layers[l];
      const dH = layer.mask ? g.mul(dOut, layer.mask) : dOut;
      const gradients = layer.cell.backward(dH, layer.saved);
      const dropMask = layerMasks[l].weightDrop;
      recurrentGradients[l] = [gradients.kernel, dropMask ? g.mul(gradients.recurrentKernel, dropMask) : gradients.recurrentKernel, gradients.bias];
      dOut = gradients.input;
    }
    if (inputMask) dOut = g.mul(dOut, inputMask);
    let embeddingGradient = g.unsortedSegmentSum(dOut, ids, parts.vocabSize);
    // One matrix serves as both when tied (see fast/network.ts): the sum of both uses' gradients.
    if (this.tiedWeights) embeddingGradient = g.add(embeddingGradient, g.transpose(output.kernelGradient));
    const gradients = [embeddingGradient, ...recurrentGradients.flat(), ...(this.tiedWeights ? [] : [output.kernelGradient]), output.biasGradient];
    return { graph: g, outputs: [output.lossSum, output.top1, ...gradients, ...run.state.flat()] };
  }

  /** Embedding → every recurrent layer from `initial`, with the dropout masks given. */
  private forward(g: Graph, weights: GraphParts, ids: Sym, initial: GraphState[], plan: ForwardPlan, masks: { inputMask?: Sym; outputMasks?: (Sym | undefined)[] }) {
    let x = g.gather(weights.embeddings, ids, 0);
    if (masks.inputMask) x = g.mul(x, masks.inputMask);
    const layers: { cell: GraphCell; saved: unknown; mask?: Sym }[] = [];
    const state: GraphState[] = [];
    weights.recurrent.forEach((layerWeights, l) => {
      const cell = makeGraphCell(g, this.parts.cell, layerWeights, this.parts.units);
      const run = cell.forward(x, plan.steps, initial[l]);
      state.push(run.state);
      const mask = masks.outputMasks?.[l];
      layers.push({ cell, saved: run.saved, mask });
      x = mask ? g.mul(run.outputs, mask) : run.outputs;
    });
    return { top: x, state, layers };
  }

  /**
   * The logits [N, V], from the top layer's output with a column of ones and the output
   * kernel with the bias as its last row: the bias costs no pass over [N, V], and the
   * backward pass gets both gradients from one matmul.
   */
  private logits(g: Graph, weights: GraphParts, top: Sym): { logits: Sym; inputsWithOnes: Sym } {
    const inputsWithOnes = withOnes(g, top);
    const kernelAndBias = g.concat([weights.outputKernel, g.reshape(weights.outputBias, [1, this.parts.vocabSize])], 0);
    return { logits: g.matMul(inputsWithOnes, kernelAndBias), inputsWithOnes };
  }

  /**
   * The output layer over the whole vocabulary: the loss and top-1 figures, and the
   * gradients of the mean loss for the output kernel, its bias and the layer's input;
   * `distilled`: against the teacher's shifted targets, fed last (shiftFeeds).
   */
  private fullOutput(g: Graph, weights: GraphParts, top: Sym, targets: Sym, distilled: boolean): OutputGradients {
    const { logits, inputsWithOnes } = this.logits(g, weights, top);
    const [losses, dLogitsOfText] = g.crossEntropyWithGradient(logits, targets);
    const dLogitsOfSum = distilled ? this.shiftedGradient(g, dLogitsOfText) : dLogitsOfText;
    // The loss is the mean over the rows and the op gives the gradient of their sum: the
    // 1/N goes on the two products, which are far smaller than the [N, V] gradient.
    const scale = g.scalar(1 / targets.shape[0]);
    // [h ones]ᵀ·dL/dlogits: the output kernel's gradient with the bias' as its last row.
    const product = g.mul(g.matMul(inputsWithOnes, dLogitsOfSum, true, false), scale);
    const [kernelGradient, biasGradient] = g.split(product, [this.parts.units, 1], 0);
    return {
      lossSum: g.sum(losses, [0]),
      top1: g.sum(g.hitsExcept(topIndices(g, logits, 1, true), targets, UNKNOWN_ID), [0]),
      kernelGradient,
      biasGradient: g.reshape(biasGradient, [-1]),
      dInput: g.mul(g.matMul(dLogitsOfSum, weights.outputKernel, false, true), scale),
    };
  }

  /** dL/dlogits − the teacher's shift (distillation.ts): its P1 part as an outer product, its entries scattered. */
  private shiftedGradient(g: Graph, dLogits: Sym): Sym {
    const [rows, vocab] = dLogits.shape;
    const lowestOrder = g.input('teacher_lowest_order', [1, vocab]);
    const shares = g.input('teacher_shares', [rows, 1]);
    const entries = g.input('teacher_entries', [-1, 2], 'int32');
    const entryWeights = g.input('teacher_weights', [-1]);
    return g.scatterSub(g.sub(dLogits, g.matMul(shares, lowestOrder)), entries, entryWeights);
  }

  /**
   * The output layer over the candidates only (sampled softmax, fast/candidates.ts): the
   * same products with C columns instead of V, the gradients added into the candidates'
   * columns. The loss it trains on is not the model's, so the figures are the full
   * softmax's on the figure rows, scaled to stand for all rows. Fed after the masks, in the
   * order of sampledFeeds.
   */
  private sampledOutput(g: Graph, weights: GraphParts, top: Sym, targets: Sym, distilled: boolean): OutputGradients {
    const { units, vocabSize } = this.parts;
    const rows = targets.shape[0];
    const picked = figureRows(rows).length;
    const ids = g.input('candidates', [-1], 'int32');
    const labels = g.input('candidate_labels', [rows], 'int32');
    const corrections = g.input('candidate_corrections', [-1]);
    const pickedRows = g.input('figure_rows', [picked], 'int32');
    const pickedTargets = g.input('figure_targets', [picked], 'int32');
    // The output kernel holds the embeddings transposed when they are tied, so its columns serve either way.
    const columns = g.gather(weights.outputKernel, ids, 1);
    const biases = g.reshape(g.add(g.gather(weights.outputBias, ids, 0), corrections), [1, -1]);
    const inputsWithOnes = withOnes(g, top);
    const logits = g.matMul(inputsWithOnes, g.concat([columns, biases], 0));
    const [, dLogitsOfText] = g.crossEntropyWithGradient(logits, labels);
    const dLogitsOfSum = distilled ? this.shiftedGradient(g, dLogitsOfText) : dLogitsOfText;
    const scale = g.scalar(1 / rows);
    // dL/dlogitsᵀ·[h ones], one row per candidate, added into the rows of its word.
    const candidateRows = g.mul(g.matMul(dLogitsOfSum, inputsWithOnes, true, false), scale);
    const wordRows = g.unsortedSegmentSum(candidateRows, ids, vocabSize);
    const [kernelRows, biasColumn] = g.split(wordRows, [units, 1], 1);
    const pickedLogits = this.logits(g, weights, g.gather(top, pickedRows, 0)).logits;
    const standsFor = g.scalar(rows / picked);
    return {
      lossSum: g.mul(g.sum(g.crossEntropy(pickedLogits, pickedTargets), [0]), standsFor),
      top1: g.mul(g.sum(g.hitsExcept(topIndices(g, pickedLogits, 1, true), pickedTargets, UNKNOWN_ID), [0]), standsFor),
      kernelGradient: g.transpose(kernelRows),
      biasGradient: g.reshape(biasColumn, [-1]),
      dInput: g.mul(g.matMul(dLogitsOfSum, columns, false, true), scale),
    };
  }
}

/** What the output layer of a training step gives the rest of the backward pass. */
interface OutputGradients {
  /** The loss summed over the rows, and how many rows had a real word ranked first. */
  lossSum: Sym;
  top1: Sym;
  /** Gradients of the mean loss: the output kernel's [units, V], its bias' and the layer input's [N, units]. */
  kernelGradient: Sym;
  biasGradient: Sym;
  dInput: Sym;
}

/** The sampled softmax's feeds: candidate ids, each row's label among them, their corrections, the figure rows and their targets. */
function sampledFeeds(targetIds: Int32Array, candidates: Candidates, vocabSize: number): tf.Tensor[] {
  const picked = figureRows(targetIds.length);
  return [
    tf.tensor1d(candidates.ids, 'int32'),
    tf.tensor1d(candidateTargets(targetIds, candidates, vocabSize), 'int32'),
    tf.tensor1d(candidates.corrections),
    tf.tensor1d(picked, 'int32'),
    tf.tensor1d(picked.map((row) => targetIds[row]), 'int32'),
  ];
}

/** [x ones]: with the bias as the weights' last row, one matmul gives the logits and one the gradients of both. */
function withOnes(g: Graph, x: Sym): Sym {
  return g.concat([x, g.ones([x.shape[0], 1])], 1);
}

/**
 * The ids of each row's `words` most likely real words, most likely first, [N, words] (or
 * [N] for one word, `flat`): ranked among the columns after <unk> (id 0), which a
 * suggestion never shows. ArgMax for one word, as TopK costs seven times more.
 */
function topIndices(g: Graph, logits: Sym, words: number, flat = false): Sym {
  const [rows, vocab] = logits.shape;
  const realWords = g.slice(logits, [0, UNKNOWN_ID + 1], [rows, vocab - 1]);
  const ranked = words === 1 ? g.argMax(realWords) : g.topK(realWords, words);
  const ids = g.addScalarInt(ranked, UNKNOWN_ID + 1);
  return words === 1 && !flat ? g.reshape(ids, [rows, 1]) : ids;
}

function readRanked(ranked: tf.Tensor2D): { ids: Int32Array; width: number } {
  const ids = ranked.dataSync() as Int32Array;
  const width = ranked.shape[1];
  ranked.dispose();
  return { ids, width };
}

function readScalar(value: tf.Tensor): number {
  const [number] = value.dataSync();
  value.dispose();
  return number;
}

/**
 * Rows whose target is a real word ranked first, and among the first five (when ranked that
 * far): <unk> is left out of the ranking and never a hit, as the fast path's loss kernel
 * counts (fast/loss.ts). Ranked ids are time-major like the network's rows.
 */
function accuracyCounts({ ids, width }: { ids: Int32Array; width: number }, batch: Batch): { top1: number; top5: number } {
  let top1 = 0;
  let top5 = 0;
  for (let r = 0; r < batch.rows; r++) {
    for (let t = 0; t < batch.seqLen; t++) {
      const target = batch.targets[r * batch.seqLen + t];
      if (target === UNKNOWN_ID) continue;
      const row = (t * batch.rows + r) * width;
      for (let rank = 0; rank < width; rank++) {
        if (ids[row + rank] !== target) continue;
        if (rank === 0) top1++;
        if (width >= 5) top5++;
        break;
      }
    }
  }
  return { top1, top5 };
}
