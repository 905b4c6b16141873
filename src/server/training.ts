/**
 * Training requests: validates the text and settings before anything starts (so a person
 * gets the reason at once, as the request's error), claims a run folder per cell, queues
 * the jobs, and turns what the workers report into registry updates and progress
 * notifications.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { resolveTrainConfig, SAMPLE_SAMPLING } from '../core/config';
import { UserError } from '../core/errors';
import { checkText } from '../core/input';
import { prepareText, readTrainingText, runFolderName } from '../core/run';
import { readRunMetrics, readRunRecord, RunWriter } from '../core/store';
import { isActiveState } from '../protocol/format';
import { CELL_TYPES, type CellType, type TrainConfig } from '../protocol/types';
import type { RunInfo, RunProgress, RunState, TrainParams } from '../protocol/lsp';
import type { Log } from './errors';
import type { HistoryRecorder } from './history';
import type { JobQueue } from './jobs';
import type { Registry } from './registry';
import { removeUnstartedRunFolder, writeOrigin } from './runFiles';
import { epochFields, summaryFields } from './runInfo';
import { ProgressThrottle } from './throttle';
import type { WorkerMessage } from './workerProtocol';

/** The sample after each epoch: short, drawn as every sample is. */
export const EPOCH_SAMPLE = { words: 12, ...SAMPLE_SAMPLING };

export interface TrainText {
  text: string;
  /** Files the text is exactly (for `seqlab eval`), or none for a selection or unsaved text. */
  sources: string[];
}

export interface TrainerEvents {
  progress(progress: RunProgress): void;
  /** A run ended (done, stopped or failed). */
  finished(runId: string): void;
}

export class Trainer {
  constructor(
    private readonly registry: Registry,
    private readonly jobs: JobQueue,
    private readonly events: TrainerEvents,
    private readonly log: Log,
  ) {}

  async train(params: TrainParams, input: TrainText): Promise<{ runIds: string[] }> {
    const cells = checkCells(params.cells);
    const base = resolveTrainConfig({ ...(params.config as Partial<TrainConfig>), cell: cells[0] });
    const name = typeof params.corpusName === 'string' && params.corpusName ? params.corpusName : 'the document';
    checkText(input.text, name);
    // The same tokenizer, split and seed for every cell, so a comparison differs only in the
    // cell. Preparing once here rejects a too-short text before any worker starts.
    prepareText(input.text, base, name);
    const group = cells.length > 1 ? randomUUID() : undefined;
    const claimed = await this.claimFolders(cells, name, group);
    const createdAt = new Date().toISOString();
    for (const { cell, dir } of claimed) {
      const config = { ...base, cell };
      const id = nodePath.basename(dir);
      const info: RunInfo = { id, dir, corpusName: name, cell, config, state: 'queued', createdAt, epochsDone: 0, group };
      const recorder = this.registry.add(info);
      this.jobs.enqueue(
        id,
        { request: { text: input.text, sources: input.sources, name, config, runsDir: this.registry.runsDir, runName: id, dir, createdAt }, sample: EPOCH_SAMPLE },
        this.jobEvents(id, recorder),
      );
    }
    this.registry.changed();
    return { runIds: claimed.map((c) => nodePath.basename(c.dir)) };
  }

  /**
   * Queues a stopped or interrupted run to go on from its last completed epoch, on its
   * text read again from its files: refused with a sentence when that text is gone or changed.
   */
  async resume(runId: string): Promise<void> {
    const info = this.registry.get(runId);
    if (!info.resumable) {
      throw new UserError(
        isActiveState(info.state)
          ? 'That run is training already.'
          : 'That run cannot be resumed: it finished, or it ended before its first epoch did (there is no checkpoint to go on from).',
      );
    }
    const record = await readRunRecord(info.dir);
    const text = await readTrainingText(record, 'train a new run instead');
    const completed = (await readRunMetrics(info.dir)).filter((m) => !m.partial).length;
    const recorder = await this.registry.reopen(runId, completed);
    this.jobs.enqueue(
      runId,
      {
        request: { text, sources: record.corpus.sources, name: info.corpusName, config: record.config, runsDir: this.registry.runsDir, runName: runId, dir: info.dir },
        sample: EPOCH_SAMPLE,
        resume: true,
      },
      this.jobEvents(runId, recorder),
    );
    this.registry.changed();
  }

  /**
   * Stops one run, or every queued and training run. A training run stops before its next
   * batch and keeps its best epoch; a queued run never started, so it is removed.
   */
  async stop(runId?: string): Promise<void> {
    const ids = runId === undefined ? this.jobs.ids() : [runId];
    if (runId !== undefined) this.registry.get(runId); // an unknown id is the person's error
    for (const id of ids) {
      if (this.jobs.stop(id) === 'dequeued') {
        this.events.progress({ runId: id, state: 'stopped' });
        await removeUnstartedRunFolder(this.registry.get(id).dir);
        await this.registry.remove(id);
        this.events.finished(id);
      }
    }
    this.registry.changed();
  }

  /** Ends a run's job at once, without waiting for it to save (its folder is about to go). */
  async kill(runId: string): Promise<void> {
    await this.jobs.kill(runId);
  }

  /** The folder of each run, created now so run ids are fixed while runs wait in the queue. */
  private async claimFolders(cells: CellType[], name: string, group: string | undefined): Promise<{ cell: CellType; dir: string }[]> {
    const claimed: { cell: CellType; dir: string }[] = [];
    try {
      for (const cell of cells) {
        const writer = await RunWriter.createNew(this.registry.runsDir, runFolderName(name, cell));
        claimed.push({ cell, dir: writer.dir });
        await writeOrigin(writer, { corpusName: name, group, enginePid: process.pid });
      }
    } catch (error) {
      await Promise.all(claimed.map(({ dir }) => fs.rm(dir, { recursive: true, force: true })));
      throw error;
    }
    return claimed;
  }

  private jobEvents(id: string, recorder: HistoryRecorder) {
    const throttle = new ProgressThrottle((progress) => this.events.progress(progress));
    const setState = (state: RunState, patch: Partial<RunInfo> = {}) => {
      this.registry.update(id, { ...patch, state });
      throttle.now({ runId: id, state, ...(patch.error ? { error: patch.error } : {}) });
      this.registry.changed();
    };
    const finish = async (state: RunState, patch: Partial<RunInfo>) => {
      setState(state, patch);
      await this.registry.refreshResumable(id);
      this.registry.changed();
      await this.registry.saveHistory(id);
      this.events.finished(id);
    };
    return {
      onStart: () => setState('training'),
      onMessage: (message: WorkerMessage) => {
        if (!this.registry.has(id)) return; // deleted while its worker wound down
        switch (message.type) {
          case 'start':
            this.registry.update(id, {
              params: message.start.params,
              vocabSize: message.start.vocabSize,
              backend: message.start.backend,
              baselines: message.start.baselines,
            });
            this.registry.changed();
            break;
          case 'batch': {
            const { progress } = message;
            const step = (progress.epoch - 1) * progress.batches + progress.batch;
            recorder.setBatchesPerEpoch(progress.batches);
            recorder.addBatch({ step, epoch: progress.epoch, loss: progress.loss, accuracy: progress.accuracy });
            throttle.batch({ runId: id, batch: { ...progress, step } });
            break;
          }
          case 'epoch':
            recorder.addEpoch(message.metrics);
            this.registry.update(id, epochFields(message.metrics));
            throttle.now({ runId: id, epoch: message.metrics });
            this.registry.changed();
            // Saved after every epoch, not only at the end: a run that a window reload or a
            // crash interrupts keeps its per-batch curve up to its checkpoint, for Resume too.
            void this.registry.saveHistory(id);
            break;
          case 'sample':
            recorder.addSample(message.epoch, message.text);
            throttle.now({ runId: id, sample: { epoch: message.epoch, text: message.text } });
            break;
          case 'done':
            void finish(message.summary.stopReason === 'cancelled' ? 'stopped' : 'done', summaryFields(message.summary));
            break;
          case 'failed':
            if (message.detail) this.log.info(`Run ${id} failed: ${message.detail}`);
            void finish('failed', { error: message.message });
            break;
        }
      },
      onOutput: (text: string) => this.log.info(`[${id}] ${text}`),
      onCrash: (reason: string) => {
        if (!this.registry.has(id)) return;
        this.log.error(`Run ${id}: ${reason}`);
        void this.recordCrash(id, reason).then(() => finish('failed', { error: reason }));
      },
    };
  }

  /** The worker died without updating config.json: record the failure there, so it survives restarts. */
  private async recordCrash(id: string, reason: string): Promise<void> {
    const { dir } = this.registry.get(id);
    try {
      const record = await readRunRecord(dir);
      await (await RunWriter.open(dir)).writeRecord({ ...record, status: 'failed', finishedAt: new Date().toISOString(), error: reason });
    } catch {
      // No config.json yet: the worker died before the run had a record, so there is nothing to mark.
    }
  }
}

function checkCells(cells: unknown): CellType[] {
  if (!Array.isArray(cells) || cells.length === 0) throw new UserError('Choose at least one cell (rnn, gru or lstm) to train.');
  for (const cell of cells) {
    if (!(CELL_TYPES as readonly unknown[]).includes(cell)) {
      throw new UserError(`The cell must be one of ${CELL_TYPES.join(', ')}, not "${String(cell)}".`);
    }
  }
  return cells as CellType[];
}
