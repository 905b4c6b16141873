/** `seqlab bench [--json] [--quick] [--quality [FILE... | --words N] | --backends [--python PY] [--threads N] | --scaling] [--backend B]`. */
import * as nodePath from 'node:path';
import type { ParsedArgs } from '../cli/args';
import type { CommandIO } from '../cli/commands';
import { resolveTrainConfig } from '../core/config';
import { UserError } from '../core/errors';
import { readTextFile } from '../core/input';
import type { Corpus } from './corpora';
import { formatBackendsReport, runBackendsBench } from './backends';
import { runQualityBench } from './heldout';
import { runBench } from './index';
import { formatThreadsReport, runThreadsBench } from './scaling';
import { formatQualityReport } from './qualityReport';
import { formatReport } from './report';

export async function benchCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  const options = {
    backend: resolveTrainConfig({ backend: args.train.backend }).backend,
    quick: Boolean(args.flags.quick),
    progress: (line: string) => io.stderr.write(`bench: ${line}\n`),
  };
  // Speed and quality are separate runs: each takes minutes, and people ask for one or the other.
  if (args.flags.quality) {
    const texts = args.positionals.length > 0 ? await ownTexts(args.positionals) : undefined;
    const report = await runQualityBench({ ...options, train: args.train, texts, words: builtInTextWords(args, texts !== undefined) });
    io.stdout.write((args.flags.json ? JSON.stringify(report, null, 2) : formatQualityReport(report)) + '\n');
    return;
  }
  if (args.positionals.length > 0) throw new UserError('Only the quality bench (--quality) reads text files.');
  if (args.flags.backends) {
    const python = typeof args.flags.python === 'string' ? args.flags.python : undefined;
    const threads = args.train.threads && args.train.threads > 0 ? args.train.threads : undefined;
    const report = await runBackendsBench({ ...options, python, threads });
    io.stdout.write((args.flags.json ? JSON.stringify(report, null, 2) : formatBackendsReport(report)) + '\n');
    return;
  }
  if (args.flags.scaling) {
    const report = await runThreadsBench(options);
    io.stdout.write((args.flags.json ? JSON.stringify(report, null, 2) : formatThreadsReport(report)) + '\n');
    return;
  }
  const report = await runBench(options);
  io.stdout.write((args.flags.json ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n');
}

/** Fewer words cannot hold a validation part worth scoring; more than the packages hold is no longer "about N". */
const BUILT_IN_TEXT_WORDS = { min: 5_000, max: 200_000 };

/** `--words N` of the quality bench: how much of each built-in text it reads. */
function builtInTextWords(args: ParsedArgs, ownTexts: boolean): number | undefined {
  const words = args.flags.words;
  if (words === undefined) return undefined;
  if (ownTexts) throw new UserError('--words cuts the built-in texts; your own files are read whole.');
  if (typeof words !== 'number' || words < BUILT_IN_TEXT_WORDS.min || words > BUILT_IN_TEXT_WORDS.max) {
    throw new UserError(`--words must be a whole number from ${BUILT_IN_TEXT_WORDS.min.toLocaleString('en')} to ${BUILT_IN_TEXT_WORDS.max.toLocaleString('en')}.`);
  }
  return words;
}

/** The person's files for the quality bench, each a text of its own named by its file name, read whole and checked as training reads them. */
async function ownTexts(paths: string[]): Promise<Corpus[]> {
  const texts: Corpus[] = [];
  for (const path of paths) {
    const { text } = await readTextFile(path);
    const base = nodePath.basename(path);
    const name = texts.some((t) => t.name === base) ? `${base} (${texts.length + 1})` : base;
    texts.push({ name, description: path, text });
  }
  return texts;
}
