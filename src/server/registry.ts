/**
 * The runs registry: every run folder in the runs folder plus the runs this engine queued
 * or trains, their curves, and the model chosen for suggestions. Run folders are the
 * truth, so the registry is rebuilt from them on start: runs survive window reloads and
 * engine restarts, and a run whose engine died while it trained is recorded as interrupted.
 */
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { UserError } from '../core/errors';
import { checkRunFiles, listRuns, readRunMetrics, readRunRecord, RUN_FILES, RunWriter, type RunRecord } from '../core/store';
import type { EpochMetrics } from '../protocol/types';
import type { InterruptedRun, RunHistory, RunInfo, RunsResult } from '../protocol/lsp';
import type { Log } from './errors';
import { HistoryRecorder } from './history';
import { infoFromRecord } from './runInfo';
import {
  processAlive,
  readActiveRunId,
  readHistory,
  readOrigin,
  removeUnstartedRunFolder,
  writeActiveRunId,
  writeHistory,
  type RunOrigin,
} from './runFiles';

export class Registry {
  private readonly runs = new Map<string, RunInfo>();
  /** Curves of the runs trained in this session; older runs' curves are read from disk. */
  private readonly recorders = new Map<string, HistoryRecorder>();
  private active: string | null = null;
  private readonly listeners: ((runs: RunsResult) => void)[] = [];

  private constructor(
    readonly runsDir: string,
    private readonly log: Log,
  ) {}

  static async open(runsDir: string, log: Log): Promise<Registry> {
    const registry = new Registry(runsDir, log);
    await registry.load();
    return registry;
  }

  list(): RunsResult {
    const runs = [...this.runs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
    return { runs, activeRunId: this.active };
  }

  /** The run, or a UserError a person can read. */
  get(id: string): RunInfo {
    const info = this.runs.get(id);
    if (!info) throw new UserError(`There is no run "${id}"; it may have been deleted.`);
    return info;
  }

  has(id: string): boolean {
    return this.runs.has(id);
  }

  get activeRunId(): string | null {
    return this.active;
  }

  onDidChange(listener: (runs: RunsResult) => void): void {
    this.listeners.push(listener);
  }

  /** A finished run whose folder was just made outside training (an import), listed now. */
  async addFolder(dir: string): Promise<RunInfo> {
    const record = await readRunRecord(dir);
    const info = await this.checkFiles(infoFromRecord(record, dir, await readRunMetrics(dir).catch(() => [])));
    this.runs.set(info.id, info);
    this.changed();
    return info;
  }

  /** A run this engine has just queued. */
  add(info: RunInfo): HistoryRecorder {
    const recorder = new HistoryRecorder(info.id);
    this.runs.set(info.id, info);
    this.recorders.set(info.id, recorder);
    return recorder;
  }

  update(id: string, patch: Partial<RunInfo>): void {
    const info = this.runs.get(id);
    if (info) this.runs.set(id, { ...info, ...patch });
  }

  async remove(id: string): Promise<void> {
    this.runs.delete(id);
    this.recorders.delete(id);
    if (this.active === id) await this.setActive(null);
  }

  async setActive(id: string | null): Promise<void> {
    this.active = id;
    await writeActiveRunId(this.runsDir, id).catch((error) =>
      this.log.warn(`Could not save the active model choice: ${(error as Error).message}`),
    );
  }

  /** Tells listeners (the client) that runs or the active model changed. */
  changed(): void {
    const runs = this.list();
    this.listeners.forEach((listener) => listener(runs));
  }

  async history(id: string): Promise<RunHistory> {
    const recorder = this.recorders.get(id);
    if (recorder) return recorder.toJSON();
    const { dir } = this.get(id);
    const saved = await readHistory(dir);
    // metrics.jsonl is the record of epochs; history.json adds what only the engine saw.
    const epochs = await readRunMetrics(dir).catch((): EpochMetrics[] => saved?.epochs ?? []);
    const history: RunHistory = { runId: id, batches: saved?.batches ?? [], epochs, samples: saved?.samples ?? [] };
    return typeof saved?.batchesPerEpoch === 'number' ? { ...history, batchesPerEpoch: saved.batchesPerEpoch } : history;
  }

  /** Saves a run's curves beside it, so the dashboard can redraw them after a restart. */
  saveHistory(id: string): Promise<void> {
    // One save at a time per run: two writes of the same file must not cross.
    const saved = (this.historySaves.get(id) ?? Promise.resolve()).then(() => this.writeHistoryNow(id));
    this.historySaves.set(id, saved);
    return saved;
  }

  private readonly historySaves = new Map<string, Promise<void>>();

  private async writeHistoryNow(id: string): Promise<void> {
    const recorder = this.recorders.get(id);
    const info = this.runs.get(id);
    if (!recorder || !info) return;
    try {
      await writeHistory(info.dir, recorder.toJSON());
    } catch (error) {
      this.log.warn(`Could not save the curves of ${id}: ${(error as Error).message}`);
    }
  }

  /** The runs found interrupted when this registry opened: what happened, one sentence each. */
  readonly interrupted: InterruptedRun[] = [];

  /** Whether run `id` has a checkpoint to go on from now (after it stopped). */
  async refreshResumable(id: string): Promise<void> {
    const info = this.runs.get(id);
    if (info) this.update(id, { resumable: await canResume(info.state, info.dir) });
  }

  /**
   * A resumed run: queued again, its curves kept up to the epoch it goes on from. The
   * recorder continues them, so the dashboard shows one run, not two.
   */
  async reopen(id: string, fromEpoch: number): Promise<HistoryRecorder> {
    const recorder = HistoryRecorder.continuing(await this.history(id), fromEpoch);
    this.recorders.set(id, recorder);
    this.update(id, { state: 'queued', resumable: false, interruption: undefined, error: undefined, epochsDone: fromEpoch });
    return recorder;
  }

  private async load(): Promise<void> {
    await this.removeUnstartedFolders();
    const records = await listRuns(this.runsDir);
    await this.logFoldersNotListed(records);
    for (const record of records) {
      const dir = nodePath.join(this.runsDir, record.id);
      const origin = await readOrigin(dir);
      const metrics = await readRunMetrics(dir).catch((error) => {
        this.log.warn((error as Error).message);
        return [];
      });
      const current = record.status === 'training' && !trainedElsewhere(origin) ? await this.recover(record, dir, metrics) : record;
      const info: RunInfo = { ...infoFromRecord(current, dir, metrics, origin), resumable: await canResume(current.status, dir) };
      this.runs.set(record.id, await this.checkFiles(info));
    }
    const active = await readActiveRunId(this.runsDir);
    this.active = active !== null && this.runs.has(active) ? active : null;
  }

  /**
   * A finished run whose files are damaged (a weights file cut short, a model.json or
   * tokenizer.json that does not parse) is listed as failed with the reason, at start,
   * rather than as done until someone uses it. Its folder is left as it is.
   */
  private async checkFiles(info: RunInfo): Promise<RunInfo> {
    if (info.state !== 'done' && info.state !== 'stopped') return info;
    try {
      await checkRunFiles(info.dir);
      return info;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      this.log.warn(`Run ${info.id} is damaged: ${error.message}`);
      return { ...info, state: 'failed', error: `The run's folder is damaged: ${error.message}`, resumable: false };
    }
  }

  /** Says in the log why a folder among the runs is not listed (no config.json, or one that is not a run's). */
  private async logFoldersNotListed(records: RunRecord[]): Promise<void> {
    const listed = new Set(records.map((record) => record.id));
    const entries = await fs.readdir(this.runsDir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.filter((e) => e.isDirectory() && !listed.has(e.name))) {
      const reason = await readRunRecord(nodePath.join(this.runsDir, entry.name)).then(
        () => 'it could not be read',
        (error: Error) => error.message,
      );
      this.log.warn(`Folder ${entry.name} in the runs folder is not listed: ${reason}`);
    }
  }

  /**
   * A folder still says 'training' but its engine is gone: the run was interrupted. Its
   * best epoch so far is kept if one was saved ('stopped'); otherwise it 'failed'.
   */
  private async recover(record: RunRecord, dir: string, metrics: EpochMetrics[]): Promise<RunRecord> {
    const hasModel = await fs
      .access(nodePath.join(dir, RUN_FILES.model))
      .then(() => true)
      .catch(() => false);
    const finishedAt = new Date().toISOString();
    const bestEpoch = [...metrics].reverse().find((m) => m.best)?.epoch;
    const interruption = interruptionSentence(record, metrics.length, hasModel ? bestEpoch : undefined);
    const recovered: RunRecord = hasModel
      ? { ...record, status: 'stopped', finishedAt, bestEpoch, interruption }
      : { ...record, status: 'failed', finishedAt, interruption, error: 'The run was interrupted before it saved a model.' };
    this.interrupted.push({ runId: record.id, message: interruption, resumable: await canResume(recovered.status, dir) });
    try {
      await (await RunWriter.open(dir)).writeRecord(recovered);
      this.log.info(`Run ${record.id} was interrupted; it is now marked ${recovered.status}.`);
    } catch (error) {
      this.log.warn(`Run ${record.id} was interrupted, and its folder could not be updated: ${(error as Error).message}`);
    }
    return recovered;
  }

  /** Folders claimed for runs that were still queued when their engine died. */
  private async removeUnstartedFolders(): Promise<void> {
    const entries = await fs.readdir(this.runsDir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.filter((e) => e.isDirectory())) {
      const dir = nodePath.join(this.runsDir, entry.name);
      const origin = await readOrigin(dir);
      if (origin && !trainedElsewhere(origin) && (await removeUnstartedRunFolder(dir))) {
        this.log.info(`Removed ${entry.name}: it was queued when the engine stopped and never started.`);
      }
    }
  }
}

/** Another engine that is still running (another VS Code window) owns this run: leave it be. */
function trainedElsewhere(origin: RunOrigin | undefined): boolean {
  return origin !== undefined && origin.enginePid !== process.pid && processAlive(origin.enginePid);
}

/**
 * What a person is told about a run whose engine stopped under it: when, what usually
 * causes that, and what was kept.
 */
export function interruptionSentence(record: RunRecord, epochsDone: number, bestEpoch: number | undefined): string {
  const cell = record.config.cell.toUpperCase();
  const where = `${cell} run ${record.id} was interrupted ${epochsDone > 0 ? `after epoch ${epochsDone}/${record.config.epochs}` : 'in its first epoch'}`;
  const kept = bestEpoch !== undefined ? `its best epoch so far (${bestEpoch}) is kept` : 'no epoch had finished, so it has no model';
  return `The ${where} when the SeqLab engine stopped (a window reload, VS Code closing or a crash); ${kept}.`;
}

/** A stopped (or failed) run with a checkpoint can go on where it stopped. */
async function canResume(status: RunInfo['state'], dir: string): Promise<boolean> {
  if (status !== 'stopped' && status !== 'failed') return false;
  return fs
    .access(nodePath.join(dir, RUN_FILES.checkpoint))
    .then(() => true)
    .catch(() => false);
}
