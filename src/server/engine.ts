/**
 * The engine behind the language server: what each SeqLab request does, put together from
 * the registry, the training jobs and the models. main.ts only connects it to LSP.
 */
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { initBackend, NATIVE_FOLDER_VARIABLE } from '../core/backend';
import { UserError } from '../core/errors';
import { exportKeras } from '../core/kerasExport';
import { importKeras, importKerasOutput } from '../core/kerasImport';
import { exportKerasScript } from '../core/kerasScript';
import { readTrainingText } from '../core/run';
import { loadRun } from '../core/store';
import type { CellInspection, InspectCellsParams } from '../protocol/cells';
import type { MeasuredMemory } from '../protocol/memory';
import type {
  EngineInitOptions,
  EngineSettings,
  ExportFormat,
  GenerateParams,
  InterruptedRun,
  RunHistory,
  RunInfo,
  RunProgress,
  RunsResult,
  SuggestionLatency,
  TrainParams,
} from '../protocol/lsp';
import { CellInspector, type InspectedText } from './cellInspector';
import { MemoryInspector } from './memoryInspector';
import type { Log } from './errors';
import { JobQueue } from './jobs';
import { ActiveModel } from './models';
import { Registry } from './registry';
import { SurprisalLens, type LensDocument } from './surprisal';
import { Trainer, type TrainText } from './training';

export interface EngineNotifications {
  progress(progress: RunProgress): void;
  runsChanged(runs: RunsResult): void;
  suggestionLatency(latency: SuggestionLatency): void;
}

/** How long a shutdown waits for training runs to stop and save before ending them. */
const SHUTDOWN_GRACE_MS = 1500;

export class Engine {
  private readonly models = new ActiveModel();
  private readonly cells = new CellInspector();
  private readonly memory = new MemoryInspector();
  private readonly trainer: Trainer;
  /** Active models that failed to load, so a broken folder is not reloaded on every keystroke. */
  private readonly unloadable = new Set<string>();
  /** Engine-side time of the last answered suggestion, in milliseconds. */
  lastSuggestionMs: number | undefined;
  /** Set by main.ts: the documents of the text sync, for the surprisal lens. */
  openDocument: (uri: string) => LensDocument | undefined = () => undefined;
  /** Surprisal of open documents under the active model (seqlab/surprisal). */
  readonly lens = new SurprisalLens({
    document: (uri) => this.openDocument(uri),
    activeRunId: () => this.registry.activeRunId,
    activeRun: (runId) => this.models.get(runId, this.registry.get(runId).dir),
  });

  private constructor(
    private settings: EngineSettings,
    private readonly registry: Registry,
    private readonly jobs: JobQueue,
    private readonly notify: EngineNotifications,
    private readonly log: Log,
  ) {
    this.trainer = new Trainer(
      registry,
      jobs,
      {
        progress: (progress) => notify.progress(progress),
        finished: (runId) => this.models.invalidate(runId), // a run used while it trained has a better model now
      },
      log,
    );
    registry.onDidChange((runs) => notify.runsChanged(runs));
  }

  static async start(options: EngineInitOptions, notify: EngineNotifications, log: Log): Promise<Engine> {
    // Training workers load native TensorFlow from here too (they read the environment).
    if (options.nativeFolder) process.env[NATIVE_FOLDER_VARIABLE] = options.nativeFolder;
    // Suggestions run on this thread, a batch of one per keystroke: there wasm's in-place
    // kernels beat native TensorFlow's per-op cost. Training workers choose their own backend.
    const backend = await initBackend('wasm').catch(() => initBackend('auto')).catch((error: Error) => {
      log.error(`No TensorFlow.js backend for suggestions: ${error.message}`);
      return undefined;
    });
    if (backend) log.info(`SeqLab engine: TensorFlow.js backend ${backend} for suggestions.`);
    const registry = await Registry.open(options.runsDir, log);
    log.info(`SeqLab engine: ${registry.list().runs.length} runs in ${options.runsDir}.`);
    return new Engine(options.settings, registry, new JobQueue(options.settings.maxConcurrentRuns), notify, log);
  }

  /** Runs found interrupted when the engine started (their engine stopped while they trained). */
  get interruptedAtStart(): readonly InterruptedRun[] {
    return this.registry.interrupted;
  }

  resume(runId: string): Promise<null> {
    return this.trainer.resume(runId).then(() => null);
  }

  train(params: TrainParams, text: TrainText): Promise<{ runIds: string[] }> {
    return this.trainer.train(params, text);
  }

  async stop(runId: string | undefined): Promise<null> {
    await this.trainer.stop(runId);
    return null;
  }

  runs(): RunsResult {
    return this.registry.list();
  }

  async history(runIds: unknown): Promise<{ histories: RunHistory[] }> {
    if (!Array.isArray(runIds)) throw new UserError('Name the runs whose curves to show.');
    // A run deleted meanwhile has no curves; the others are still worth drawing.
    const known = runIds.filter((id): id is string => typeof id === 'string' && this.registry.has(id));
    return { histories: await Promise.all(known.map((id) => this.registry.history(id))) };
  }

  async setActiveModel(runId: string | null): Promise<null> {
    if (runId === null || runId === undefined) {
      this.models.clear();
    } else {
      const info = this.runWithModel(runId);
      await this.models.use(runId, info.dir);
      this.unloadable.delete(runId);
    }
    await this.registry.setActive(runId ?? null);
    this.registry.changed();
    return null;
  }

  async generate(params: GenerateParams): Promise<{ text: string }> {
    const info = this.runWithModel(params.runId);
    const prompt = typeof params.prompt === 'string' ? params.prompt : '';
    const text = await this.models.generate(info.id, info.dir, prompt, { words: params.words, temperature: params.temperature, noRepeat: params.noRepeat });
    return { text };
  }

  /** The cell inspector for a span of an open document, with the run asked for or else the active model. */
  inspectCells(params: InspectCellsParams, document: InspectedText): Promise<CellInspection> {
    const runId = params.runId ?? this.registry.activeRunId;
    if (!runId) throw new UserError('No model is chosen; choose one with "SeqLab: Use Model for Suggestions" or name a run to inspect.');
    if (params.layer !== undefined && !Number.isInteger(params.layer)) throw new UserError('The layer to inspect must be a whole number.');
    return this.cells.inspect(this.runWithModel(runId), document, params.layer);
  }

  /** Memory through time of a finished run, measured once and kept. */
  inspectMemory(params: { runId: string }): Promise<MeasuredMemory> {
    return this.memory.measure(this.runWithModel(params.runId));
  }

  /**
   * Checks an export target and creates the run's folder in it, one level only: a relative
   * path would land wherever the engine happens to run, a folder inside the runs folder
   * would show up as a run, and fs.cp's own recursive mkdir never returned for a target
   * under /proc (it spun a core), where a single mkdir fails at once.
   */
  private async claimExportFolder(target: unknown, runId: string): Promise<string> {
    if (typeof target !== 'string' || target === '') throw new UserError('Choose a folder to export the run to.');
    if (!nodePath.isAbsolute(target)) throw new UserError(`Choose the export folder by its full path; "${target}" is relative.`);
    const runsDir = nodePath.resolve(this.registry.runsDir);
    const resolved = nodePath.resolve(target);
    if (resolved === runsDir || resolved.startsWith(runsDir + nodePath.sep)) {
      throw new UserError('Choose an export folder outside the folder SeqLab keeps its runs in.');
    }
    const dir = nodePath.join(resolved, runId);
    try {
      await fs.mkdir(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new UserError(`"${dir}" already exists; choose another folder.`);
      throw new UserError(`The folder "${dir}" could not be created (${code ?? (error as Error).message}).`, { cause: error });
    }
    return dir;
  }

  async exportRun(params: { runId: string; target: string; format?: ExportFormat }): Promise<{ dir: string }> {
    const info = this.registry.get(params.runId);
    if (info.state === 'queued' || info.state === 'training') {
      throw new UserError(`The run ${info.id} is still ${info.state}; export it when it has finished.`);
    }
    if (params.format === 'keras' || params.format === 'keras-script') {
      const script = params.format === 'keras-script';
      const run = await loadRun(info.dir);
      try {
        // Read before claiming the folder, so a text that is gone leaves nothing behind.
        const text = script ? await readTrainingText(run.record, 'a Keras experiment needs the text the run trained on') : '';
        const dir = await this.claimExportFolder(params.target, `${info.id}-keras${script ? '-experiment' : ''}`);
        await (script ? exportKerasScript(run, text, dir) : exportKeras(run, dir));
        return { dir };
      } finally {
        run.model.dispose();
      }
    }
    const dir = await this.claimExportFolder(params.target, info.id);
    try {
      await fs.cp(info.dir, dir, {
        recursive: true,
        errorOnExist: true,
        force: false,
        filter: (source) => !source.endsWith('.tmp'), // a half-written file of a crash is no part of the run
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_FS_CP_EEXIST' || code === 'EEXIST') throw new UserError(`"${dir}" already exists; choose another folder.`);
      throw new UserError(`The run could not be copied to "${dir}" (${code ?? (error as Error).message}).`, { cause: error });
    }
    return { dir };
  }

  /**
   * Imports a Keras 3 model with its tokenizer as a new run, or the output folder of a Keras
   * experiment with its settings and curves (kerasImport.ts).
   */
  async importRun(params: { file: string; tokenizer?: string }): Promise<{ runId: string }> {
    const tokenizer = params.tokenizer ?? nodePath.join(nodePath.dirname(params.file), 'tokenizer.json');
    const isFolder = await fs.stat(params.file).then((stat) => stat.isDirectory(), () => false);
    const dir = isFolder
      ? await importKerasOutput(params.file, this.registry.runsDir, 'wasm')
      : await importKeras(params.file, tokenizer, this.registry.runsDir, 'wasm');
    return { runId: (await this.registry.addFolder(dir)).id };
  }

  async deleteRun(runId: string): Promise<null> {
    const info = this.registry.get(runId);
    // Out of the registry first, so anything its worker still reports is ignored.
    await this.registry.remove(runId);
    this.unloadable.delete(runId);
    try {
      await this.trainer.kill(runId);
      this.models.invalidate(runId);
      await fs.rm(info.dir, { recursive: true, force: true });
    } catch (error) {
      throw new UserError(`The run folder "${info.dir}" could not be deleted (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, {
        cause: error,
      });
    } finally {
      this.registry.changed();
    }
    return null;
  }

  settingsChanged(settings: EngineSettings): void {
    this.settings = settings;
    this.jobs.setMaxConcurrent(settings.maxConcurrentRuns);
  }

  /**
   * Ghost text for the cursor at the end of `textBefore`, or undefined when suggestions are
   * off, no model is active, nothing is confident enough, or the request was cancelled.
   */
  async suggest(uri: string, textBefore: string, cancelled: () => boolean): Promise<string | undefined> {
    const started = performance.now();
    const { suggestions } = this.settings;
    const runId = this.registry.activeRunId;
    if (!suggestions.enabled || runId === null || this.unloadable.has(runId) || cancelled()) return undefined;
    try {
      await this.models.get(runId, this.registry.get(runId).dir);
    } catch (error) {
      this.unloadable.add(runId);
      this.log.error(`The active model ${runId} could not be loaded, so there are no suggestions: ${(error as Error).message}`);
      return undefined;
    }
    if (cancelled() || this.registry.activeRunId !== runId) return undefined;
    const suggestion = this.models.suggest(uri, textBefore, suggestions);
    const milliseconds = performance.now() - started;
    this.lastSuggestionMs = milliseconds;
    this.log.debug(`Suggestion in ${milliseconds.toFixed(1)} ms: ${JSON.stringify(suggestion?.text ?? null)}`);
    this.notify.suggestionLatency({ runId, milliseconds });
    return suggestion?.text;
  }

  closeDocument(uri: string): void {
    this.models.closeDocument(uri);
    this.lens.closeDocument(uri);
  }

  shutdown(): Promise<void> {
    return this.jobs.shutdown(SHUTDOWN_GRACE_MS);
  }

  /** A run that has (or may have) a saved model: queued runs have none yet. */
  private runWithModel(runId: unknown): RunInfo {
    if (typeof runId !== 'string') throw new UserError('Choose a run.');
    const info = this.registry.get(runId);
    if (info.state === 'queued') throw new UserError(`The run ${runId} has not started training yet, so it has no model.`);
    return info;
  }
}
