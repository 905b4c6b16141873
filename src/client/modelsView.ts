/**
 * The "Models" view in the SeqLab side bar: a webview with one table row per run. The
 * page only displays and reports clicks; every action goes through the same command as
 * in the palette, so confirmation, errors and logging are handled once.
 */
import * as vscode from 'vscode';
import { isModelsToHost, type HostToModels } from '../protocol/webview';
import type { Config } from './config';
import type { Dashboard } from './dashboardPanel';
import type { Engine } from './engine';
import type { Log } from './log';
import type { Runs } from './runs';
import type { Selection } from './selection';
import { loadWatchedPage, webviewOptions } from './webviewHtml';

export class ModelsView implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewType = 'seqlab.models';

  private view: vscode.WebviewView | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly extensionUri: vscode.Uri,
    engine: Engine,
    private readonly runs: Runs,
    private readonly selection: Selection,
    private readonly config: Config,
    private readonly dashboard: Dashboard,
    private readonly log: Log,
  ) {
    this.subscriptions = [
      vscode.window.registerWebviewViewProvider(ModelsView.viewType, this),
      // A training run's card shows its latest figures ("epoch 3/20 · loss 5.1"), not just its state.
      engine.onProgress((progress) => this.post({ type: 'progress', progress })),
      runs.onDidChange(() => this.update()),
      selection.onDidChange(() => this.update()),
      config.onDidChange(() => this.update()),
    ];
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    const page = loadWatchedPage(
      view.webview,
      this.extensionUri,
      { title: 'SeqLab Models', script: 'models', styles: ['common.css', 'models.css'], body: MODELS_BODY },
      () => view.visible,
      this.log,
    );
    const subscriptions = [
      page,
      view.webview.onDidReceiveMessage((message: unknown) => this.receive(message)),
      // Updates are not posted while the view is hidden, so it catches up when shown again.
      view.onDidChangeVisibility(() => this.update()),
      view.onDidDispose(() => {
        for (const d of subscriptions) d.dispose();
        this.view = undefined;
      }),
    ];
  }

  private receive(message: unknown): void {
    if (!isModelsToHost(message)) {
      this.log.warn(`Ignored a malformed message from the Models view: ${JSON.stringify(message)}`);
      return;
    }
    // Actions run the palette's commands, so they confirm, log and report errors the same way.
    const run = (command: string, ...args: unknown[]) => void vscode.commands.executeCommand(command, ...args);
    switch (message.type) {
      case 'ready':
        this.update();
        break;
      case 'select': {
        const added = message.runIds.some((id) => !this.selection.runIds.includes(id));
        this.selection.set(message.runIds);
        // Ticking a run means "show me its curves".
        if (added) this.dashboard.show();
        break;
      }
      case 'useModel':
        run('seqlab.useModel', message.runId);
        break;
      case 'deleteRun':
        run('seqlab.deleteRun', message.runId);
        break;
      case 'resumeRun':
        run('seqlab.resumeRun', message.runId);
        break;
      case 'stopRun':
        run('seqlab.stopTraining', message.runId);
        break;
      case 'showDashboard':
        run('seqlab.showDashboard');
        break;
      case 'trainModel':
        run('seqlab.trainModel');
        break;
    }
  }

  private update(): void {
    this.post({
      type: 'update',
      runs: [...this.runs.all],
      labels: this.runs.labels,
      activeRunId: this.runs.activeRunId,
      selected: [...this.selection.runIds],
      suggestionsEnabled: this.config.suggestions.enabled,
    });
  }

  private post(message: HostToModels): void {
    // Not `view.visible`: after a window reload the page can say it is ready before the
    // host marks the view visible, and an update dropped then left it blank until the
    // engine next changed a run.
    if (this.view) void this.view.webview.postMessage(message);
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }
}

/** Static skeleton; src/webviews/models.ts fills it in with one section per text trained on. */
const MODELS_BODY = `
    <div id="empty" class="empty" data-testid="models-empty" hidden>
      <p>No models yet. Open a text file and train one on it.</p>
      <button id="train" type="button" data-testid="models-train">Train Model on Current File</button>
    </div>
    <p id="suggestions-off" class="note" hidden>Suggestions are off; click SeqLab in the status bar to turn them on.</p>
    <div id="groups" data-testid="models-groups"></div>`;
