/** `seqlab bench [--json] [--quick] [--quality [FILE...] | --backends [--python PY] [--threads N] | --scaling] [--backend B]`. */
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
    const report = await runQualityBench({ ...options, train: args.train, texts });
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
