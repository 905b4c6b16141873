/**
 * The start every `seqlab inspect` view shares: the backend the flags ask for, a run's
 * model loaded and disposed of around the work, and for the views that read one text
 * with one run, their `--model DIR FILE` arguments checked with the view's own sentences.
 */
import { initBackend } from '../core/backend';
import { resolveTrainConfig } from '../core/config';
import { UserError } from '../core/errors';
import { readCorpus } from '../core/input';
import { loadRun, type LoadedRun } from '../core/store';
import { flagOf, type ParsedArgs } from './args';

/** Starts the backend `--backend` names (by default the training default's). */
export async function initInspectBackend(args: ParsedArgs): Promise<void> {
  await initBackend(resolveTrainConfig(args.train, flagOf).backend);
}

/** Loads the run in `dir`, gives it to `body`, and frees its model's tensors however `body` ends. */
export async function withRun<T>(dir: string, body: (run: LoadedRun) => Promise<T>): Promise<T> {
  const run = await loadRun(dir);
  try {
    return await body(run);
  } finally {
    run.model.dispose();
  }
}

/** What a one-run, one-file view works on. */
export interface RunOnFile {
  /** The run folder, as given. */
  dir: string;
  run: LoadedRun;
  /** The text file, as given, and its text. */
  file: string;
  text: string;
}

/** The sentences a view says when its arguments are wrong, naming the view. */
export interface RunOnFileUsage {
  /** When --model DIR is missing. */
  noModel: string;
  /** When there is not exactly one file. */
  notOneFile: string;
}

/** Checks `--model DIR FILE`, reads FILE, starts the backend and loads the run for `body`. */
export async function withRunOnFile<T>(args: ParsedArgs, usage: RunOnFileUsage, body: (target: RunOnFile) => Promise<T>): Promise<T> {
  const dir = args.flags.model;
  if (typeof dir !== 'string') throw new UserError(usage.noModel);
  const [file, ...extra] = args.positionals;
  if (!file || extra.length > 0) throw new UserError(usage.notOneFile);
  const { text } = await readCorpus([file]);
  await initInspectBackend(args);
  return withRun(dir, (run) => body({ dir, run, file, text }));
}
