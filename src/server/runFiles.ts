/**
 * The engine's own files beside the core's: `origin.json` and `history.json` in a run
 * folder (through the core's RunWriter, so they are written atomically like the rest) and
 * `active-model.json` in the runs folder. Readers are forgiving: a missing or damaged file
 * of these only loses a name or a chart, never a run.
 */
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { RunWriter } from '../core/store';
import type { RunHistory } from '../protocol/lsp';

const ORIGIN_FILE = 'origin.json';
const HISTORY_FILE = 'history.json';
const ACTIVE_FILE = 'active-model.json';

/** What the engine knows about a run that config.json does not say. */
export interface RunOrigin {
  /** How the person knows the text, e.g. "notes.md (selection)". */
  corpusName: string;
  group?: string;
  /** The engine process that trains it: a 'training' folder whose engine is gone was interrupted. */
  enginePid: number;
}

export function writeOrigin(writer: RunWriter, origin: RunOrigin): Promise<void> {
  return writer.writeJson(ORIGIN_FILE, origin);
}

export async function readOrigin(dir: string): Promise<RunOrigin | undefined> {
  const json = await readJsonOrUndefined(nodePath.join(dir, ORIGIN_FILE));
  return isObject(json) && typeof json.corpusName === 'string' && typeof json.enginePid === 'number'
    ? (json as unknown as RunOrigin)
    : undefined;
}

/** Saved after each epoch and when a run ends, so its per-batch curves and samples survive restarts. */
export async function writeHistory(dir: string, history: RunHistory): Promise<void> {
  await (await RunWriter.open(dir)).writeJson(HISTORY_FILE, history);
}

export async function readHistory(dir: string): Promise<RunHistory | undefined> {
  const json = await readJsonOrUndefined(nodePath.join(dir, HISTORY_FILE));
  return isObject(json) && Array.isArray(json.batches) && Array.isArray(json.epochs) && Array.isArray(json.samples)
    ? (json as unknown as RunHistory)
    : undefined;
}

export async function readActiveRunId(runsDir: string): Promise<string | null> {
  const json = await readJsonOrUndefined(nodePath.join(runsDir, ACTIVE_FILE));
  return isObject(json) && typeof json.runId === 'string' ? json.runId : null;
}

/** Temp file and rename, so a crash leaves the old choice or the new one. */
export async function writeActiveRunId(runsDir: string, runId: string | null): Promise<void> {
  await fs.mkdir(runsDir, { recursive: true });
  const target = nodePath.join(runsDir, ACTIVE_FILE);
  const temp = `${target}.${process.pid}.tmp`;
  await fs.writeFile(temp, JSON.stringify({ runId }) + '\n');
  await fs.rename(temp, target);
}

/** Whether a process with this id exists (signal 0 only checks). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a folder the engine claimed for a run that never started (it holds nothing but
 * origin.json). Anything else in it means it is not such a folder, and it is left alone.
 */
export async function removeUnstartedRunFolder(dir: string): Promise<boolean> {
  const names = await fs.readdir(dir).catch(() => undefined);
  if (!names || names.some((name) => name !== ORIGIN_FILE)) return false;
  await fs.rm(dir, { recursive: true, force: true });
  return true;
}

async function readJsonOrUndefined(path: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
