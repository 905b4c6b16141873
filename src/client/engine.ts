/**
 * The engine process and the connection to it. The engine (dist/server.js) is a language
 * server started over IPC; all TensorFlow.js work happens there, never in the extension
 * host. If it dies, the language client restarts it (up to a limit); the runs registry is
 * on disk, so the mirror is simply re-read when it is back.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
  type ErrorHandler,
  type LanguageClientOptions,
  type Middleware,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  Methods,
  type EngineInitOptions,
  type ExportFormat,
  type GenerateParams,
  type InterruptedRun,
  type RunHistory,
  type RunProgress,
  type RunsResult,
  type SuggestionLatency,
  type TrainParams,
} from '../protocol/lsp';
import type { SurprisalGuessesParams, SurprisalGuessesResult, SurprisalParams, SurprisalResult } from '../protocol/surprisal';
import type { CellInspection, InspectCellsParams } from '../protocol/cells';
import type { MeasuredMemory } from '../protocol/memory';
import type { Config } from './config';
import type { Log } from './log';
import type { Runs } from './runs';

/** Params and result of each SeqLab request, as documented in src/protocol/lsp.ts. */
interface Requests {
  [Methods.train]: [TrainParams, { runIds: string[] }];
  [Methods.stop]: [{ runId?: string }, null];
  [Methods.runs]: [Record<string, never>, RunsResult];
  [Methods.history]: [{ runIds: string[] }, { histories: RunHistory[] }];
  [Methods.setActiveModel]: [{ runId: string | null }, null];
  [Methods.generate]: [GenerateParams, { text: string }];
  [Methods.exportRun]: [{ runId: string; target: string; format?: ExportFormat }, { dir: string }];
  [Methods.deleteRun]: [{ runId: string }, null];
  [Methods.resumeRun]: [{ runId: string }, null];
  [Methods.importRun]: [{ file: string; tokenizer?: string }, { runId: string }];
  [Methods.inspectCells]: [InspectCellsParams, CellInspection];
  [Methods.inspectMemory]: [{ runId: string }, MeasuredMemory];
  [Methods.surprisal]: [SurprisalParams, SurprisalResult];
  [Methods.surprisalGuesses]: [SurprisalGuessesParams, SurprisalGuessesResult];
}

/** Where "Install Native TensorFlow" installs @tensorflow/tfjs-node: the extension's storage. */
export function defaultNativeFolder(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'native');
}

/** The language client's own default: restarts allowed within 3 minutes before giving up. */
const MAX_RESTARTS = 4;

export class Engine implements vscode.Disposable {
  private readonly client: LanguageClient;
  private readonly progressEmitter = new vscode.EventEmitter<RunProgress>();
  /** Training progress of every run, as the engine sends it (about 10 a second per run). */
  readonly onProgress = this.progressEmitter.event;
  private readonly latencyEmitter = new vscode.EventEmitter<SuggestionLatency>();
  /** How long each inline completion took inside the engine. */
  readonly onSuggestionLatency = this.latencyEmitter.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The client's restart policy; a fresh one after a manual restart, so its crash count starts over. */
  private restartPolicy: ErrorHandler | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: Config,
    private readonly log: Log,
    private readonly runs: Runs,
    middleware: Middleware,
  ) {
    const server = { module: context.asAbsolutePath(path.join('dist', 'server.js')), transport: TransportKind.ipc };
    const serverOptions: ServerOptions = { run: server, debug: server };
    const clientOptions: LanguageClientOptions = {
      // Every text file, whatever its language: any of them can be trained on. Which ones
      // get suggestions is decided by the middleware from the settings.
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      // A function, so a restarted engine gets the settings of the moment.
      initializationOptions: (): EngineInitOptions => ({
        runsDir: this.runsDir,
        settings: this.config.engineSettings(),
        nativeFolder: this.nativeFolder,
      }),
      outputChannel: log,
      // People see our one-sentence messages; the client's own go to the log only.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      errorHandler: this.errorHandler(),
      middleware,
    };
    this.client = new LanguageClient('seqlab', 'SeqLab engine', serverOptions, clientOptions);
    this.client.onNotification(Methods.progress, (progress: RunProgress) => this.progressEmitter.fire(progress));
    this.client.onNotification(Methods.runsChanged, (result: RunsResult) => this.runs.update(result));
    this.client.onNotification(Methods.runsInterrupted, ({ runs }: { runs: InterruptedRun[] }) => {
      for (const { runId, message, resumable } of runs) {
        log.warn(message);
        void vscode.window.showWarningMessage(message, ...(resumable ? ['Resume'] : [])).then((choice) => {
          if (choice === 'Resume') void vscode.commands.executeCommand('seqlab.resumeRun', runId);
        });
      }
    });
    this.client.onNotification(Methods.suggestionLatency, (latency: SuggestionLatency) => this.latencyEmitter.fire(latency));
    this.subscriptions.push(
      this.client.onDidChangeState((e) => {
        if (e.newState === State.Running) void this.resync();
      }),
      config.onDidChange(() => {
        if (this.client.isRunning()) {
          void this.client.sendNotification(Methods.settingsChanged, this.config.engineSettings());
        }
      }),
    );
  }

  /** Where run folders live: the extension's global storage, so they outlive any workspace. */
  get runsDir(): string {
    return path.join(this.context.globalStorageUri.fsPath, 'runs');
  }

  /** Where the engine looks for native TensorFlow: the setting, else where the install command puts it. */
  get nativeFolder(): string {
    return this.config.nativeFolder ?? defaultNativeFolder(this.context);
  }

  async start(): Promise<void> {
    await vscode.workspace.fs.createDirectory(vscode.Uri.file(this.runsDir));
    await this.client.start();
  }

  /** Starts the engine again, also after the client gave up restarting it. */
  async restart(): Promise<void> {
    this.restartPolicy = undefined;
    if (this.client.state === State.Stopped) await this.start();
    else await this.client.restart();
  }

  async request<M extends keyof Requests>(
    method: M,
    params: Requests[M][0],
    token?: vscode.CancellationToken,
  ): Promise<Requests[M][1]> {
    if (this.client.state === State.Starting || this.client.state === State.Running) {
      // A request made while the engine starts waits for the same start promise as the
      // didOpen notifications the client sends for the open editors as it finishes starting,
      // and, having waited first, would reach the engine before them: a train request would
      // find its document "not open". Let the start finish and those notifications go first
      // (start() only returns the settled start promise when the engine is already up).
      await this.client.start();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.client.sendRequest(method, params, token);
  }

  async dispose(): Promise<void> {
    for (const s of this.subscriptions) s.dispose();
    this.progressEmitter.dispose();
    this.latencyEmitter.dispose();
    await this.client.dispose();
  }

  /** After every (re)start: re-read the registry, which the engine rebuilt from the run folders. */
  private async resync(): Promise<void> {
    try {
      this.runs.update(await this.request(Methods.runs, {}));
    } catch (error) {
      this.log.error(`Reading the runs registry failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The client's default restart policy, with our own sentence instead of its message. */
  private errorHandler(): ErrorHandler {
    const policy = () => (this.restartPolicy ??= this.client.createDefaultErrorHandler(MAX_RESTARTS));
    return {
      error: (error, message, count) => policy().error(error, message, count),
      closed: async () => {
        const result = await policy().closed();
        const restarting = result.action === CloseAction.Restart;
        const sentence = restarting
          ? 'The SeqLab engine stopped unexpectedly and has been restarted; saved runs are safe on disk.'
          : 'The SeqLab engine keeps stopping and was not restarted; see the SeqLab output, then run "SeqLab: Restart Engine".';
        this.log.error(`Engine process exited. ${result.message ?? ''}`.trim());
        void vscode.window.showWarningMessage(sentence, 'Show Log').then((choice) => {
          if (choice) this.log.show(true);
        });
        return { ...result, message: sentence, handled: true };
      },
    };
  }
}
