/**
 * The quality benchmark (issue "models that learn more than counting"): on several
 * held-out texts, the default model trained as `seqlab train` trains it, against the
 * Kneser-Ney trigram on the same split, in nats per character; what its suggestions save;
 * every size preset on a short text against the unigram baseline; and the default model's
 * sample after a prompt from its held-out text, drawn as the samples after each epoch are, to read.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { resolveTrainConfig, SAMPLE_SAMPLING, SIZE_PRESETS } from '../core/config';
import { Predictor } from '../core/predictor';
import { prepareText, runFolderName, samplePrompt, trainRun } from '../core/run';
import { splitText } from '../core/dataset';
import { evaluateText, KEYSTROKE_SAMPLE_CHARACTERS } from '../core/evaluate';
import { loadNgrams, loadRun, loadSpelling } from '../core/store';
import { TUNING_CHARACTERS } from '../core/typing';
import type { SuggestionReport, TrainConfig, TrainSummary } from '../protocol/types';
import { firstWords, heldOutCorpora, type Corpus } from './corpora';

export interface HeldOutFigures {
  corpus: string;
  description: string;
  words: number;
  summary: TrainSummary;
  /**
   * The ghost text typing held-out text that none of the run's settings were fitted on:
   * the validation part after the characters its thresholds were chosen on (null when
   * there is too little of it). The summary's typing figures are on the fitting text.
   */
  untuned: UntunedTyping | null;
}

export interface UntunedTyping extends Pick<SuggestionReport, 'keystrokeSavings' | 'wordStartOffered' | 'wordStartFirstWordRight' | 'wordStarts'> {
  /** Characters typed. */
  characters: number;
}

export interface PresetFigures {
  preset: string;
  valPerplexity: number | null;
  unigram: number;
  kn3: number;
  seconds: number;
}

export interface QualityReport {
  date: string;
  /** The training settings that differ from the defaults (none: the defaults). */
  settings: Partial<TrainConfig>;
  /** Words of each held-out text (training + validation). */
  words: number;
  texts: HeldOutFigures[];
  skipped: string[];
  /** Every preset on a short hard-wrapped text. */
  shortText: { words: number; presets: PresetFigures[] };
  /** The default model's continuation of a held-out prompt, drawn as the samples after each epoch are. */
  sample: { corpus: string; words: number; prompt: string; continuation: string };
  seconds: number;
}

/** Sizes of the texts: the full run takes tens of minutes on two cores, the quick one a few. */
export const QUALITY_SETTINGS = {
  full: { words: 40_000, shortWords: 6_000, sampleWords: 18_000 },
  quick: { words: 12_000, shortWords: 6_000, sampleWords: 12_000 },
};

export async function runQualityBench(options: {
  quick: boolean;
  backend: TrainConfig['backend'];
  /** Training settings other than the defaults (the command line's), to measure what they change. */
  train?: Partial<TrainConfig>;
  progress: (line: string) => void;
}): Promise<QualityReport> {
  const started = performance.now();
  const plan = options.quick ? QUALITY_SETTINGS.quick : QUALITY_SETTINGS.full;
  const { corpora, skipped } = heldOutCorpora(plan.words);
  const runsDir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'seqlab-quality-'));
  try {
    const config = resolveTrainConfig({ ...options.train, backend: options.backend });
    const texts: HeldOutFigures[] = [];
    for (const corpus of corpora) {
      options.progress(`${corpus.name}: default ${config.cell} on ${countWords(corpus.text).toLocaleString('en')} words`);
      const summary = await train(corpus, config, runsDir);
      texts.push({ corpus: corpus.name, description: corpus.description, words: countWords(corpus.text), summary, untuned: await typeUntuned(corpus.text, config, summary.modelDir) });
    }
    const wrapped = corpora.find((c) => c.name === 'wrapped') ?? corpora[0];
    const short = firstWords([wrapped.text], plan.shortWords);
    const presets: PresetFigures[] = [];
    for (const preset of SIZE_PRESETS) {
      options.progress(`${preset.label} preset on the first ${plan.shortWords.toLocaleString('en')} words of ${wrapped.name}`);
      const summary = await train({ ...wrapped, text: short }, { ...config, ...preset.size }, runsDir);
      presets.push({ preset: preset.label, valPerplexity: summary.valPerplexity, unigram: summary.baselines.unigram, kn3: summary.baselines.kn3, seconds: summary.seconds });
    }
    const novel = corpora[0];
    options.progress(`sample: default model on the first ${plan.sampleWords.toLocaleString('en')} words of ${novel.name}`);
    const sampleText = { ...novel, text: firstWords([novel.text], plan.sampleWords) };
    const sampleRun = await train(sampleText, config, runsDir);
    const sample = await continueHeldOut(sampleText.text, config, sampleRun.modelDir);
    return {
      date: new Date().toISOString(),
      settings: Object.fromEntries(Object.entries(options.train ?? {}).filter(([, value]) => value !== undefined)),
      words: plan.words,
      texts,
      skipped,
      shortText: { words: plan.shortWords, presets },
      sample: { corpus: novel.name, words: plan.sampleWords, ...sample },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    fs.rmSync(runsDir, { recursive: true, force: true });
  }
}

function train(corpus: Corpus, config: TrainConfig, runsDir: string): Promise<TrainSummary> {
  return trainRun({ text: corpus.text, sources: [corpus.name], name: corpus.name, config, runsDir, runName: runFolderName(corpus.name, config.cell) });
}

/** Characters past the fitting text skipped before typing, as the typed text's spacing differs a little from the file's. */
const FITTING_MARGIN = 500;

/**
 * Most characters typed after the fitting text. All of it where there is less: whether a
 * next-word ghost is right is a coin of about 0.4, and over the ~70 ghosts shown in 3,000
 * characters the share right still varied by ±6 points.
 */
const UNTUNED_CHARACTERS = 12000;

/** The run's suggestions typing the held-out text after the part their thresholds were fitted on. */
async function typeUntuned(text: string, config: TrainConfig, dir: string): Promise<UntunedTyping | null> {
  const { validationText } = splitText(text, config.valSplit);
  const rest = validationText.slice(TUNING_CHARACTERS + FITTING_MARGIN);
  const start = rest.search(/\s\S/);
  const untuned = start < 0 ? '' : rest.slice(start + 1);
  if (untuned.length < KEYSTROKE_SAMPLE_CHARACTERS) return null;
  const run = await loadRun(dir);
  try {
    const counts = { ngrams: await loadNgrams(dir), spelling: await loadSpelling(dir), suggestion: run.suggestion };
    const characters = Math.min(untuned.length, UNTUNED_CHARACTERS);
    const { suggestion } = await evaluateText(run.model, run.tokenizer, counts, untuned, { ...config, keystrokeCharacters: characters });
    if (!suggestion) return null;
    const { keystrokeSavings, wordStartOffered, wordStartFirstWordRight, wordStarts } = suggestion;
    return { characters, keystrokeSavings, wordStartOffered, wordStartFirstWordRight, wordStarts };
  } finally {
    run.model.dispose();
  }
}

/** 30 words greedily continuing the first words of the held-out part. */
async function continueHeldOut(text: string, config: TrainConfig, dir: string): Promise<{ prompt: string; continuation: string }> {
  const prompt = samplePrompt(prepareText(text, config, 'sample'));
  const run = await loadRun(dir);
  const predictor = new Predictor(run.model, run.tokenizer);
  try {
    return { prompt, continuation: predictor.generate(prompt, { words: 30, ...SAMPLE_SAMPLING }).text };
  } finally {
    predictor.dispose();
    run.model.dispose();
  }
}

function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}
