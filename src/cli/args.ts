/**
 * Command-line options: one table maps each `--flag` to a training setting, and every
 * value is checked before any work starts, so a typo costs one sentence, not a run.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_TRAIN_CONFIG } from '../core/config';
import { UserError } from '../core/errors';
import { CELL_TYPES, type CellType, type TrainConfig } from '../protocol/types';

type FlagKind = 'integer' | 'number' | 'string' | 'boolean';

/** Flags that set a training setting, with the setting they set (`negate`: a switch that turns it off). */
const TRAIN_FLAGS: Record<string, { key: keyof TrainConfig; kind: FlagKind; negate?: boolean }> = {
  cell: { key: 'cell', kind: 'string' },
  epochs: { key: 'epochs', kind: 'integer' },
  units: { key: 'units', kind: 'integer' },
  layers: { key: 'layers', kind: 'integer' },
  embedding: { key: 'embedding', kind: 'integer' },
  'seq-len': { key: 'seqLen', kind: 'integer' },
  batch: { key: 'batch', kind: 'integer' },
  lr: { key: 'learningRate', kind: 'number' },
  dropout: { key: 'dropout', kind: 'number' },
  'input-dropout': { key: 'inputDropout', kind: 'number' },
  'weight-drop': { key: 'weightDrop', kind: 'number' },
  distill: { key: 'distill', kind: 'number' },
  'lr-decay': { key: 'lrDecay', kind: 'number' },
  'average-decay': { key: 'averageDecay', kind: 'number' },
  'clip-norm': { key: 'clipNorm', kind: 'number' },
  'val-split': { key: 'valSplit', kind: 'number' },
  patience: { key: 'patience', kind: 'integer' },
  seed: { key: 'seed', kind: 'integer' },
  'max-vocab': { key: 'maxVocab', kind: 'integer' },
  'min-count': { key: 'minCount', kind: 'integer' },
  'rare-as-unknown': { key: 'rareAsUnknown', kind: 'number' },
  lowercase: { key: 'lowercase', kind: 'boolean' },
  'tie-weights': { key: 'tieWeights', kind: 'boolean' },
  'no-tie-weights': { key: 'tieWeights', kind: 'boolean', negate: true },
  'subword-vectors': { key: 'subwordVectors', kind: 'boolean' },
  'no-subword-vectors': { key: 'subwordVectors', kind: 'boolean', negate: true },
  backend: { key: 'backend', kind: 'string' },
  threads: { key: 'threads', kind: 'integer' },
  'softmax-samples': { key: 'softmaxSamples', kind: 'integer' },
};

/** How messages name a training setting: by the flag that sets it. */
export function flagOf(key: keyof TrainConfig): string {
  const flag = Object.entries(TRAIN_FLAGS).find(([, f]) => f.key === key && !f.negate)?.[0];
  return flag ? `--${flag}` : key;
}

/** Flags of the commands themselves. */
const COMMAND_FLAGS: Record<string, FlagKind> = {
  out: 'string',
  json: 'boolean',
  cells: 'string',
  model: 'string',
  prompt: 'string',
  words: 'integer',
  temperature: 'number',
  'top-p': 'number',
  'no-repeat': 'number',
  beam: 'number',
  quick: 'boolean',
  quality: 'boolean',
  backends: 'boolean',
  scaling: 'boolean',
  resume: 'string',
  keras: 'boolean',
  'keras-script': 'boolean',
  tokenizer: 'string',
  python: 'string',
  unit: 'integer',
  gate: 'string',
  text: 'string',
  help: 'boolean',
};

export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  /** Training settings given on the command line (unchecked ranges: resolveTrainConfig checks them). */
  train: Partial<TrainConfig>;
  flags: Record<string, string | number | boolean | undefined>;
}

export function parseCommandLine(argv: string[]): ParsedArgs {
  const kinds: Record<string, FlagKind> = { ...COMMAND_FLAGS };
  for (const [flag, { kind }] of Object.entries(TRAIN_FLAGS)) kinds[flag] = kind;
  const options = Object.fromEntries(
    Object.entries(kinds).map(([flag, kind]) => [flag, { type: kind === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
  );
  let parsed;
  try {
    parsed = parseArgs({
      args: attachValues(argv, kinds),
      options: { ...options, h: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    if (error instanceof UserError) throw error;
    // Node's messages go on with advice about `--`; the first sentence is the useful part.
    const firstSentence = (error as Error).message.split('\n')[0].split('. ')[0].replace(/\.$/, '');
    throw new UserError(`${firstSentence}. Run "seqlab help" for the options.`);
  }
  const [command, ...positionals] = parsed.positionals;
  const train: Partial<TrainConfig> = {};
  const flags: ParsedArgs['flags'] = {};
  for (const [flag, raw] of Object.entries(parsed.values)) {
    if (flag === 'h') {
      flags.help = true;
      continue;
    }
    const value = convert(flag, kinds[flag], raw as string | boolean);
    const trainFlag = TRAIN_FLAGS[flag];
    if (trainFlag) (train as Record<string, unknown>)[trainFlag.key] = trainFlag.negate ? !value : value;
    else flags[flag] = value;
  }
  return { command, positionals, train, flags };
}

/**
 * Joins `--flag value` into `--flag=value` for flags that take a value, so that values
 * starting with a dash (`--lr -1`, `--prompt "- item"`) reach validation instead of
 * being read as unknown flags.
 */
function attachValues(argv: string[], kinds: Record<string, FlagKind>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') && !argv[i].includes('=') ? argv[i].slice(2) : undefined;
    if (name && kinds[name] && kinds[name] !== 'boolean') {
      if (i + 1 >= argv.length) throw new UserError(`--${name} needs a value.`);
      joined.push(`${argv[i]}=${argv[++i]}`);
    } else {
      joined.push(argv[i]);
    }
  }
  return joined;
}

function convert(flag: string, kind: FlagKind, raw: string | boolean): string | number | boolean {
  if (kind === 'boolean' || typeof raw === 'boolean') return raw;
  if (kind === 'string') return raw;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (kind === 'integer' && !Number.isInteger(value))) {
    throw new UserError(`--${flag} needs ${kind === 'integer' ? 'a whole number' : 'a number'}, not "${raw}".`);
  }
  return value;
}

/** `--cells rnn,gru,lstm` → the cell types, in the order given, each once. */
export function parseCells(value: string | number | boolean | undefined): CellType[] {
  if (value === undefined) return [...CELL_TYPES];
  const cells = String(value)
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
  const unknown = cells.filter((c) => !(CELL_TYPES as readonly string[]).includes(c));
  if (cells.length === 0 || unknown.length > 0) {
    throw new UserError(`--cells takes a comma-separated list of ${CELL_TYPES.join(', ')}, not "${value}".`);
  }
  return [...new Set(cells)] as CellType[];
}

/** The defaults the usage text shows, from the one place they are set. */
const D = DEFAULT_TRAIN_CONFIG;

export const USAGE = `seqlab — train and compare RNN, GRU and LSTM word-level language models on your text

Usage:
  seqlab train FILE... [--cell rnn|gru|lstm] [training options] [--out DIR] [--json]
  seqlab train --resume RUN [FILE...] [--json]   (a stopped or interrupted run, from its last epoch)
  seqlab compare FILE... [--cells rnn,gru,lstm] [training options] [--prompt TEXT] [--out DIR] [--json]
  seqlab generate --model DIR --prompt TEXT [--words N] [--temperature T] [--top-p P] [--no-repeat N] [--beam N] [--seed N] [--json]
  seqlab eval --model DIR [FILE...] [--json]     (no FILE: the run's own validation split)
  seqlab export --keras --model DIR OUT          (model.keras, tokenizer.json and a README for Keras 3)
  seqlab export --keras-script --model DIR OUT   (a Python project that trains the run again in Keras:
                                                  one device, tf.distribute strategies or Ray Train)
  seqlab import MODEL.keras [--tokenizer FILE] [--out DIR]   (a Keras 3 model as a run)
  seqlab import KERAS_OUTPUT_DIR [--out DIR]                (a Keras experiment's output, with its curves)
  seqlab inspect cells --model DIR FILE [--unit N] [--gate NAME] [--out DIR] [--json]
                                                  (cells.json, cells.svg: a unit's values over FILE as a heat map,
                                                  and the units that follow quotes, line position, full stops...)
  seqlab inspect memory RUN... [--text FILE] [--out DIR] [--json]
                                                  (memory.json, memory.svg: gradient norm by steps back,
                                                  and held-out loss by tokens of context, runs overlaid)
  seqlab inspect surprisal --model DIR FILE [--out DIR] [--json]
                                                  (surprisal.json, surprisal.svg: each word's nats under the model,
                                                  its five guesses and rank, the words shaded by surprise)
  seqlab demo [--json]
  seqlab bench [--quick] [--backend B] [--json]   (stock vs fast training, suggestion latency, memory)
  seqlab bench --quality [FILE... | --words N] [--quick] [--json]
                                                  (held-out texts: network and suggestions vs KN3; presets;
                                                  FILE: your own texts instead, each whole, its last 10% held out;
                                                  --words: about N words of each built-in text [40,000])
  seqlab bench --backends [--python PY] [--threads N] [--quick] [--json]
                                                  (fast path per backend vs Keras and PyTorch, ms per step;
                                                  --threads: native TensorFlow and the peers on N threads)
  seqlab bench --scaling [--quick] [--json]       (one run's step on 1, 2, 4 threads, no exchange, sampled; wasm)

Training options (defaults in brackets):
  --cell rnn|gru|lstm [${D.cell}]   --epochs N [${D.epochs}]        --units N [${D.units}]      --layers N [${D.layers}]
  --embedding N [${D.embedding}]          --seq-len N [${D.seqLen}]       --batch N [${D.batch}]        --lr X [${D.learningRate}]
  --dropout X [${D.dropout}]            --input-dropout X [${D.inputDropout}]  --clip-norm X [${D.clipNorm}]    --patience N [${D.patience}]
  --lr-decay X [${D.lrDecay}]           --average-decay X [${D.averageDecay}]  --val-split F [${D.valSplit}]  --weight-drop X [${D.weightDrop}]
  --distill X [${D.distill}]            the trigram's share of each training target (0: the text's words alone)
  --tie-weights | --no-tie-weights [${D.tieWeights ? 'tied' : 'untied'} when embedding = units]
  --subword-vectors | --no-subword-vectors [${D.subwordVectors ? 'on' : 'off'}] words spelt alike share part of their vectors
  --seed N [${D.seed}]                --max-vocab N [${D.maxVocab}]  --min-count N [${D.minCount}]    --lowercase
  --rare-as-unknown X [${D.rareAsUnknown}]     the share of words seen once read as <unk> each epoch
  --backend auto|tensorflow|wasm|cpu [${D.backend}: the faster of tensorflow and wasm, measured per model]
  --threads N [${D.threads}: 1 or every core, measured per model] threads that train one run together on wasm
  --softmax-samples N [${D.softmaxSamples}: every word] words a step scores besides its targets (sampled softmax)

Runs are saved under --out [runs], one folder per run. Ctrl+C stops training and keeps the
best epoch so far.`;
