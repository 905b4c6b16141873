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
import { isWordLike, splitTokens } from '../core/tokenizer';
import { UserError } from '../core/errors';
import { heldOutCorpora, type Corpus } from './corpora';

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
  /** Words each built-in text is cut to (training + validation); null when the texts were the person's own files, read whole. */
  words: number | null;
  texts: HeldOutFigures[];
  skipped: string[];
  /** Every preset on the first SHORT_TEXT_BYTES of one text (the hard-wrapped one, if there is one). */
  shortText: { corpus: string; words: number; bytes: number; presets: PresetFigures[] };
  /** The default model's continuation of a held-out prompt, drawn as the samples after each epoch are. */
  sample: { corpus: string; words: number; prompt: string; continuation: string };
  seconds: number;
}

/** Sizes of the texts: the full run takes tens of minutes on two cores, the quick one a few. */
export const QUALITY_SETTINGS = {
  // The sample's text is about 100 KB, where the issue asks that samples read as phrases.
  full: { words: 40_000, sampleBytes: 100_000 },
  quick: { words: 12_000, sampleBytes: 70_000 },
};

/** The short text every size preset trains on: 35 KB, where the "no preset worse than the unigram" is measured. */
export const SHORT_TEXT_BYTES = 35_000;

export async function runQualityBench(options: {
  quick: boolean;
  backend: TrainConfig['backend'];
  /** Training settings other than the defaults (the command line's), to measure what they change. */
  train?: Partial<TrainConfig>;
  /** The person's own texts, each read whole in its order, instead of the built-in ones. */
  texts?: Corpus[];
  /** About how many words of each built-in text, instead of the plan's. */
  words?: number;
  progress: (line: string) => void;
}): Promise<QualityReport> {
  const started = performance.now();
  const plan = { ...(options.quick ? QUALITY_SETTINGS.quick : QUALITY_SETTINGS.full) };
  if (options.words !== undefined) plan.words = options.words;
  const { corpora, skipped } = options.texts ? { corpora: options.texts, skipped: [] } : heldOutCorpora(plan.words);
  if (corpora.length === 0) throw new UserError(`None of the quality bench's texts could be read: ${skipped.join('; ')}.`);
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
    const short = firstBytes(wrapped.text, SHORT_TEXT_BYTES);
    const presets: PresetFigures[] = [];
    for (const preset of SIZE_PRESETS) {
      options.progress(`${preset.label} preset on the first ${SHORT_TEXT_BYTES.toLocaleString('en')} bytes of ${wrapped.name}`);
      const summary = await train({ ...wrapped, text: short }, { ...config, ...preset.size }, runsDir);
      presets.push({ preset: preset.label, valPerplexity: summary.valPerplexity, unigram: summary.baselines.unigram, kn3: summary.baselines.kn3, seconds: summary.seconds });
    }
    const novel = corpora[0];
    const sampleText = { ...novel, text: firstBytes(novel.text, plan.sampleBytes) };
    options.progress(`sample: default model on the first ${countWords(sampleText.text).toLocaleString('en')} words of ${novel.name}`);
    const sampleRun = await train(sampleText, config, runsDir);
    const sample = await continueHeldOut(sampleText.text, config, sampleRun.modelDir);
    return {
      date: new Date().toISOString(),
      settings: Object.fromEntries(Object.entries(options.train ?? {}).filter(([, value]) => value !== undefined)),
      words: options.texts ? null : plan.words,
      texts,
      skipped,
      shortText: { corpus: wrapped.name, words: countWords(short), bytes: Buffer.byteLength(short), presets },
      sample: { corpus: novel.name, words: countWords(sampleText.text), ...sample },
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

/** Held-out characters a text needs for typing after the fitting text: less, and its typing is not measured. */
export const UNTUNED_MINIMUM = TUNING_CHARACTERS + FITTING_MARGIN + KEYSTROKE_SAMPLE_CHARACTERS;

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

/** 30 words continuing the first words of the held-out part, drawn as the samples after each epoch are. */
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

/** Words as the tokenizer finds them (so text written without spaces counts its words too), not punctuation. */
export function countWords(text: string): number {
  return splitTokens(text).filter(isWordLike).length;
}


/** The start of `text` up to `bytes` of UTF-8, cut after the last line break (or else space) within them. */
export function firstBytes(text: string, bytes: number): string {
  const head = Buffer.from(text, 'utf8').subarray(0, bytes).toString('utf8').replace(/\uFFFD$/, '');
  if (head.length >= text.length) return text;
  const cut = Math.max(head.lastIndexOf('\n'), 0) || head.search(/\s\S*$/);
  return cut > 0 ? head.slice(0, cut) : head;
}
