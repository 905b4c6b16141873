/**
 * A run's experiment as a self-contained Keras project (`seqlab export --keras-script`):
 * the token ids of its training and validation parts (the same split), its settings and
 * tokenizer, and keras_experiment.py, which trains the same model with the same recipe
 * on one device, under a tf.distribute strategy or as a Ray Train job, and writes what
 * `seqlab import` turns back into a run (metrics.jsonl, model.keras, tokenizer.json).
 */
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { splitText, splitStream } from './dataset';
import { UserError } from './errors';
import { CandidateSampler, sampledWords, type SamplerTables } from './fast/candidates';
import { kerasArchive, kerasLayers } from './kerasExport';
import { buildModel, startAtUnigram } from './model';
import { RUN_FILES, type LoadedRun } from './store';
import { wordCounts } from './train';
import type { TrainConfig } from '../protocol/types';

/** The training program, kept as a real Python file (src/python) and copied beside the bundles by the build. */
const SCRIPT_NAME = 'keras_experiment.py';

/** What keras_experiment.py reads from experiment.json (and writes back beside its results). */
export interface KerasExperiment {
  format: 'seqlab-keras-experiment';
  version: 1;
  /** The SeqLab run this reproduces. */
  run: string;
  vocabSize: number;
  /** The window length the run trained with (shorter than the setting for a short text). */
  seqLen: number;
  config: LoadedRun['record']['config'];
  corpus: LoadedRun['record']['corpus'];
  /** When the run trained on a sampled softmax: the words a step draws and the tables it draws them by. */
  sampledSoftmax?: { samples: number } & SamplerTables;
}

/** The tables SeqLab's sampler drew the run's candidates by, so the script draws the same words (no float of them recomputed). */
function samplerTables(config: TrainConfig, vocabSize: number, trainIds: Int32Array): KerasExperiment['sampledSoftmax'] {
  const samples = sampledWords(config.softmaxSamples, vocabSize);
  return samples > 0 ? { samples, ...new CandidateSampler(wordCounts(trainIds, vocabSize), samples).tables() } : undefined;
}

/**
 * Writes the project into `outDir` (created; refused when it holds one already) from the
 * run and its training text. Returns the files written.
 */
export async function exportKerasScript(run: LoadedRun, text: string, outDir: string): Promise<string[]> {
  const { record, tokenizer } = run;
  const { config } = record;
  const { trainText, validationText } = splitText(text, config.valSplit);
  const split = splitStream(
    tokenizer.encodeTokens(tokenizer.tokenize(trainText)),
    tokenizer.encodeTokens(tokenizer.tokenize(validationText)),
    config.seqLen,
    config.valSplit,
  );
  const experiment: KerasExperiment = {
    format: 'seqlab-keras-experiment',
    version: 1,
    run: record.id,
    vocabSize: tokenizer.vocabSize,
    seqLen: split.seqLen,
    config,
    corpus: record.corpus,
    sampledSoftmax: samplerTables(config, tokenizer.vocabSize, split.train),
  };
  const script = nodePath.join(outDir, SCRIPT_NAME);
  if (await fs.stat(script).then(() => true, () => false)) throw new UserError(`"${script}" exists already; choose another folder.`);
  await fs.mkdir(nodePath.join(outDir, 'data'), { recursive: true });
  const files: [string, string | Uint8Array | Promise<string>][] = [
    ['initial.keras', await initialModel(record.config, tokenizer.vocabSize, split.train)],
    ['experiment.json', JSON.stringify(experiment, null, 1)],
    ['data/train.json', JSON.stringify(Array.from(split.train))],
    ['data/validation.json', JSON.stringify(Array.from(split.validation))],
    ['tokenizer.json', fs.readFile(nodePath.join(run.dir, RUN_FILES.tokenizer), 'utf8')],
    [SCRIPT_NAME, fs.readFile(scriptSource(), 'utf8')],
    ['requirements.txt', 'tensorflow>=2.16\nkeras>=3.0\nnumpy\n# only for --ray N:\n# ray[train]\n'],
    ['README.md', projectReadme(experiment)],
  ];
  const written: string[] = [];
  for (const [name, content] of files) {
    const path = nodePath.join(outDir, name);
    await fs.writeFile(path, await content);
    written.push(path);
  }
  await fs.chmod(script, 0o755);
  return written;
}

/**
 * The weights the run started from, as a .keras file: SeqLab's initialisation is seeded, so
 * building the model again with the run's seed gives them exactly. `--initial-weights`
 * starts the Keras training from them, which with dropout off makes it repeat the run.
 */
async function initialModel(config: TrainConfig, vocabSize: number, trainIds: Int32Array): Promise<Uint8Array> {
  const model = buildModel({ ...config, vocabSize }, config.seed);
  try {
    startAtUnigram(model, trainIds);
    return await kerasArchive(kerasLayers(model));
  } finally {
    model.dispose();
  }
}

/** Beside the bundle (dist/python) in the extension and CLI; in the sources when run from them (tests). */
function scriptSource(): string {
  const bundled = nodePath.join(__dirname, 'python', SCRIPT_NAME);
  return existsSync(bundled) ? bundled : nodePath.join(__dirname, '..', 'python', SCRIPT_NAME);
}

function projectReadme(experiment: KerasExperiment): string {
  const { config } = experiment;
  return `# The SeqLab run ${experiment.run}, as a Keras experiment

${config.cell.toUpperCase()}, embedding ${config.embedding}, ${config.units} units × ${config.layers} layer(s), vocabulary
${experiment.vocabSize.toLocaleString('en')} tokens, windows of ${experiment.seqLen}, ${config.batch} lanes a batch, up to ${config.epochs} epochs,
Adam at ${config.learningRate} with the gradient clipped to norm ${config.clipNorm}, dropout ${config.inputDropout} on word vectors
and ${config.dropout} after each layer${config.tieWeights && config.embedding === config.units ? ', tied input and output embeddings' : ''}, seed ${config.seed}.${
    config.weightDrop ? `\nThe run's weight drop (${config.weightDrop} of each recurrent kernel a batch) has no Keras layer and is left out here.` : ''
  }${
    config.distill ? `\nThe run also learned from its trigram model (${config.distill} of each target); that is left out here, so this trains on the text's words alone.` : ''
  }${
    config.subwordVectors ? `\nThe run's word vectors also shared the letter groups of their spellings (subword vectors); that is left out here.` : ''
  }${
    config.rareAsUnknown ? `\nThe run read ${config.rareAsUnknown} of its words seen once as <unk>, a new choice each epoch; here they are read as they are.` : ''
  }${
    experiment.sampledSoftmax
      ? `\nLike the run, it trains on a sampled softmax (the targets and ${experiment.sampledSoftmax.samples} drawn words a step, the same words as\nthe run drew) until validation stops improving and for the last epoch, then on the full softmax.`
      : ''
  }
\`data/\` holds the token ids of the run's training and validation parts: the same split.

\`\`\`sh
pip install -r requirements.txt
python ${SCRIPT_NAME}                       # one device
python ${SCRIPT_NAME} --strategy mirrored   # every GPU (or CPU device) of this machine
python ${SCRIPT_NAME} --ray 4               # a Ray Train job of 4 workers (ray start --head first, or a cluster)
python ${SCRIPT_NAME} --initial-weights     # start from the run's own initial weights (initial.keras)
\`\`\`

Across machines without Ray, start the same command on each with \`TF_CONFIG\` naming the
cluster and that worker, and \`--strategy multi-worker\`:

\`\`\`sh
TF_CONFIG='{"cluster":{"worker":["host1:12345","host2:12345"]},"task":{"type":"worker","index":0}}' \\
  python ${SCRIPT_NAME} --strategy multi-worker
\`\`\`

Each replica trains its share of the batch's lanes and one update is made from the whole
batch's gradient, so more workers give the same training as one (up to rounding and the
random dropout masks). The chief (worker 0) writes \`output/\` (\`--out\` to change it):
\`metrics.jsonl\` (SeqLab's per-epoch format), \`model.keras\` (plain Keras layers) and the
tokenizer. Bring it back into SeqLab, curves included, with

\`\`\`sh
seqlab import output/
\`\`\`

or **SeqLab: Import Keras Model** in VS Code.
`;
}
