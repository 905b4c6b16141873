/**
 * `seqlab bench`: SeqLab's training path against stock tf.layers training, side by side in
 * one process on one backend, plus suggestion latency and training memory. A program that
 * prints figures; nothing here asserts a timing.
 */
import { DEFAULT_ADAPTATION } from '../core/adaptation';
import { initBackend, type BackendName, type BackendPreference } from '../core/backend';
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig } from '../core/config';
import { evaluationBatches, trainingBatches } from '../core/dataset';
import { resolveEngine } from '../core/fast/engine';
import { simdActive } from '../core/fast/wasm/simd';
import { buildModel } from '../core/model';
import { Random } from '../core/random';
import { prepareText } from '../core/run';
import { Tokenizer } from '../core/tokenizer';
import { CELL_TYPES, type CellType } from '../protocol/types';
import { joinChapters, mobyDickChapters } from './data';
import { forwardProducts, trainingProducts, type BenchShape } from './flops';
import { describeMachine, type MachineFigures } from './machine';
import { peakMatmulRate } from './matmul';
import { trainingMemory, type MemoryFigures } from './memory';
import { suggestionLatency, type LatencyFigures } from './suggestions';
import { compareInference, compareTraining, type Comparison, type Rounds } from './throughput';

export interface BenchOptions {
  backend: BackendPreference;
  /** Fewer batches and requests: a rough figure in well under a minute. */
  quick: boolean;
  progress: (line: string) => void;
}

export interface BenchReport {
  date: string;
  machine: MachineFigures;
  /**
   * How the fast path ran: its elementwise kernels in WebAssembly SIMD (wasm backend) or
   * JavaScript, or not at all where the backend has no fast path (then both columns are stock).
   */
  fastPath: 'WebAssembly SIMD kernels' | 'JavaScript kernels' | 'unavailable (stock)';
  /** Model and batch sizes of the throughput comparisons (DESIGN.md's defaults, ~1k words). */
  shape: Omit<BenchShape, 'cell'>;
  peakMatmulGflops: number;
  training: Record<CellType, Comparison>;
  inference: Record<CellType, Comparison>;
  suggestions: {
    cell: CellType;
    vocabSize: number;
    units: number;
    weights: string;
    /** Where the suggestions ran: the engine's backend for them, not necessarily the training parts'. Absent in older reports. */
    backend?: BackendName;
    latency: LatencyFigures[];
  };
  memory: MemoryFigures;
  seconds: number;
}

/** The benchmark's fixed choices, and how much of each part a full or quick run does. */
const SETTINGS = {
  trainingVocab: 1000,
  /**
   * The reference model of the speed comparisons, fixed rather than the training defaults
   * so the figures stay comparable across versions and with Keras and PyTorch measured on
   * the same shape: Embedding 64 → 128 units → Dense, 32 windows of 32 per batch.
   */
  speedShape: { embedding: 64, units: 128, batch: 32, dropout: 0.1, inputDropout: 0, tieWeights: false },
  /** The vocabulary of the suggestion-latency goal; the latency at the defaults' largest vocabulary is measured too. */
  suggestionVocab: 10000,
  seed: 42,
  full: {
    memoryBatches: 40,
    training: { rounds: 3, stockBatches: 2, fastBatches: 10 },
    inference: { rounds: 3, stockBatches: 3, fastBatches: 10 },
    requests: 400,
  },
  quick: {
    memoryBatches: 10,
    training: { rounds: 2, stockBatches: 1, fastBatches: 4 },
    inference: { rounds: 2, stockBatches: 1, fastBatches: 4 },
    requests: 200,
  },
} satisfies Record<string, unknown>;

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const started = performance.now();
  const plan: { memoryBatches: number; training: Rounds; inference: Rounds; requests: number } = options.quick ? SETTINGS.quick : SETTINGS.full;
  await initBackend(options.backend);
  const chapters = mobyDickChapters();
  const novel = joinChapters(chapters);

  // First, while the process's peak memory is still this run's own.
  options.progress(`memory: ${plan.memoryBatches} training batches and a validation pass on all of Moby Dick, default settings`);
  const memory = await trainingMemory(novel, plan.memoryBatches);

  options.progress('matmul: the backend\'s peak rate (1024³)');
  const peakMatmulGflops = peakMatmulRate().gflops;

  const config = resolveTrainConfig({ ...SETTINGS.speedShape, maxVocab: SETTINGS.trainingVocab, seed: SETTINGS.seed });
  const { tokenizer, split } = prepareText(novel, config, 'Moby Dick');
  const shape = { vocabSize: tokenizer.vocabSize, embedding: config.embedding, units: config.units, layers: config.layers, batch: config.batch, seqLen: split.seqLen };
  const trainBatches = trainingBatches(split.train, split.seqLen, config.batch, new Random(config.seed));
  const validationBatches = evaluationBatches(split.validation, split.seqLen, config.batch).filter((b) => b.rows === config.batch);
  const training = {} as Record<CellType, Comparison>;
  const inference = {} as Record<CellType, Comparison>;
  for (const cell of CELL_TYPES) {
    const model = buildModel({ ...config, cell, vocabSize: tokenizer.vocabSize }, config.seed);
    try {
      options.progress(`training: ${cell}, stock and fast`);
      training[cell] = await compareTraining(model, config, trainBatches, plan.training, trainingProducts({ ...shape, cell }));
      options.progress(`validation pass: ${cell}, stock and fast`);
      inference[cell] = await compareInference(model, validationBatches, plan.inference, forwardProducts({ ...shape, cell }));
    } finally {
      model.dispose();
    }
  }

  // Described before the suggestions switch backends: the figures above ran on this one.
  const machine = describeMachine();
  const fastPath: BenchReport['fastPath'] = resolveEngine('fast') === 'stock' ? 'unavailable (stock)' : simdActive() ? 'WebAssembly SIMD kernels' : 'JavaScript kernels';
  // The engine suggests on wasm whatever trains (server/engine.ts), so its latency is measured there.
  const suggestionBackend = await initBackend('wasm').catch(() => initBackend(options.backend));
  options.progress(
    `suggestions on ${suggestionBackend}: LSTM ${config.units}, vocabularies ${SETTINGS.suggestionVocab} and the defaults' ${DEFAULT_TRAIN_CONFIG.maxVocab}, ${plan.requests} keystrokes`,
  );
  const suggestions = {
    ...measureSuggestions(novel, chapters[chapters.length - 2].text, chapters[chapters.length - 1].text, plan.requests),
    backend: suggestionBackend,
  };

  return {
    date: new Date().toISOString(),
    machine,
    fastPath,
    shape,
    peakMatmulGflops,
    training,
    inference,
    suggestions,
    memory,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * An LSTM over a 10,000-word vocabulary fitted on the whole novel, with its initial random
 * weights: latency does not depend on what the weights are, and training one would take
 * minutes. The person types the last chapter after the one before it. Then the same at the
 * largest vocabulary the training defaults keep (all of the novel's words), where every
 * keystroke's output layer is larger.
 */
function measureSuggestions(novel: string, before: string, chapter: string, requests: number): BenchReport['suggestions'] {
  const defaults = resolveTrainConfig({});
  const latency: LatencyFigures[] = [];
  for (const maxVocab of new Set([SETTINGS.suggestionVocab, DEFAULT_TRAIN_CONFIG.maxVocab])) {
    const tokenizer = Tokenizer.fit(novel, { maxVocab, minCount: 1, lowercase: false });
    const model = buildModel({ ...defaults, cell: 'lstm', vocabSize: tokenizer.vocabSize }, SETTINGS.seed);
    try {
      const reference = maxVocab === SETTINGS.suggestionVocab;
      const rows = (reference ? [1, 3] : [3]).map((words) => suggestionLatency(model, tokenizer, before + '\n\n', chapter, words, requests));
      // Learning from the chapter as it is typed: what adapting adds to the keystrokes it falls on.
      rows.push(suggestionLatency(model, tokenizer, before + '\n\n', chapter, 3, requests, DEFAULT_ADAPTATION));
      latency.push(...rows.map((row) => ({ ...row, vocabSize: tokenizer.vocabSize })));
    } finally {
      model.dispose();
    }
  }
  return { cell: 'lstm', vocabSize: latency[0].vocabSize!, units: defaults.units, weights: 'random (initial)', latency };
}
