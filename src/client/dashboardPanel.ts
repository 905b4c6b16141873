/**
 * The dashboard: a webview panel that charts the selected runs. The page asks for its
 * content when it (re)loads, so it needs no `retainContextWhenHidden`: hidden, it costs
 * nothing; shown again, it redraws from `seqlab/history`. After a window reload, VS Code
 * hands the panel back through the serializer with the state the page saved.
 */
import * as vscode from 'vscode';
import { Methods, type RunInfo } from '../protocol/lsp';
import { isDashboardState, isDashboardToHost, type HostToDashboard } from '../protocol/webview';
import type { Engine } from './engine';
import { reportError } from './errors';
import type { Log } from './log';
import type { Runs } from './runs';
import type { Selection } from './selection';
import { renderHtml, webviewOptions } from './webviewHtml';

export class Dashboard implements vscode.Disposable {
  static readonly viewType = 'seqlab.dashboard';
  static readonly title = 'SeqLab Dashboard';

  private panel: vscode.WebviewPanel | undefined;
  private panelSubscriptions: vscode.Disposable[] = [];
  private readonly subscriptions: vscode.Disposable[];
  /** The run ids of the last 'show', to tell a new set of runs from new facts about the same ones. */
  private shown: string[] = [];
  /** Bumped by every 'show', so a slow history reply never overwrites a newer one. */
  private generation = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly engine: Engine,
    private readonly runs: Runs,
    private readonly selection: Selection,
    private readonly log: Log,
  ) {
    this.subscriptions = [
      vscode.window.registerWebviewPanelSerializer(Dashboard.viewType, {
        deserializeWebviewPanel: async (panel, state) => this.restore(panel, state),
      }),
      selection.onDidChange(() => void this.sendShow()),
      runs.onDidChange(() => this.onRunsChanged()),
      engine.onProgress((progress) => {
        if (this.shown.includes(progress.runId)) this.post({ type: 'progress', progress });
      }),
    ];
  }

  /** Opens the dashboard beside the editor (keeping the focus there, so typing goes on) or reveals it. */
  show(): void {
    if (this.selection.runIds.length === 0) this.selection.set(this.latestRunIds());
    if (this.panel) {
      this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      Dashboard.viewType,
      Dashboard.title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      webviewOptions(this.extensionUri),
    );
    this.attach(panel);
  }

  private restore(panel: vscode.WebviewPanel, state: unknown): void {
    // The selection is kept in workspace state too; the page's own state covers a workspace that lost it.
    if (this.selection.runIds.length === 0 && isDashboardState(state)) this.selection.set(state.runIds);
    this.attach(panel);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'seqlab.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = renderHtml(panel.webview, this.extensionUri, {
      title: Dashboard.title,
      script: 'dashboard',
      styles: ['common.css', 'dashboard.css'],
      body: DASHBOARD_BODY,
    });
    this.panelSubscriptions = [
      panel.webview.onDidReceiveMessage((message: unknown) => this.receive(message)),
      panel.onDidDispose(() => {
        for (const d of this.panelSubscriptions) d.dispose();
        this.panelSubscriptions = [];
        this.panel = undefined;
        this.shown = [];
      }),
    ];
  }

  private receive(message: unknown): void {
    if (!isDashboardToHost(message)) {
      this.log.warn(`Ignored a malformed message from the dashboard: ${JSON.stringify(message)}`);
      return;
    }
    switch (message.type) {
      case 'ready':
        void this.sendShow();
        break;
      case 'stop':
        void vscode.commands.executeCommand('seqlab.stopTraining', message.runId);
        break;
    }
  }

  /** Sends the selected runs with their curves so far. */
  private async sendShow(): Promise<void> {
    if (!this.panel) return;
    const generation = ++this.generation;
    const runs = this.selectedRuns();
    const runIds = runs.map((run) => run.id);
    try {
      const { histories } = runIds.length > 0 ? await this.engine.request(Methods.history, { runIds }) : { histories: [] };
      if (generation !== this.generation) return;
      // Posted without awaiting anything else: progress sent after the history reply must arrive after it.
      this.shown = runIds;
      this.post({ type: 'show', runs: this.selectedRuns(), histories });
    } catch (error) {
      reportError(this.log, 'Loading the dashboard curves', error);
    }
  }

  private onRunsChanged(): void {
    const ids = this.selectedRuns().map((run) => run.id);
    const sameRuns = ids.length === this.shown.length && ids.every((id, i) => id === this.shown[i]);
    if (sameRuns) this.post({ type: 'runs', runs: this.selectedRuns() });
    else void this.sendShow();
  }

  /** The selection as runs, in selection (= colour) order, skipping ids the registry does not know (yet). */
  private selectedRuns(): RunInfo[] {
    return this.selection.runIds.map((id) => this.runs.get(id)).filter((run): run is RunInfo => run !== undefined);
  }

  /** The newest run and the runs of its comparison, for a dashboard opened with nothing selected. */
  private latestRunIds(): string[] {
    const newest = [...this.runs.all].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    if (!newest) return [];
    return newest.group ? this.runs.all.filter((run) => run.group === newest.group).map((run) => run.id) : [newest.id];
  }

  private post(message: HostToDashboard): void {
    if (this.panel?.visible) void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.subscriptions) d.dispose();
  }
}

/** Static skeleton; src/webviews/dashboard.ts fills it in. */
const DASHBOARD_BODY = `
    <header>
      <h1>SeqLab Dashboard</h1>
      <p class="key" aria-label="How to read the charts">
        <span class="key-batch">thin: training, per batch</span>
        <span class="key-epoch">solid: training, per epoch</span>
        <span class="key-val">dashed: validation, per epoch</span>
      </p>
    </header>
    <p id="empty" class="empty" data-testid="dashboard-empty" hidden>
      No runs to show. Train a model with "SeqLab: Train Model on Current File", or tick runs in the Models view.
    </p>
    <section id="runs" class="runs" aria-label="Runs" data-testid="dashboard-runs"></section>
    <section class="charts" aria-label="Charts">
      <figure>
        <figcaption id="loss-caption">Loss (cross-entropy, nats per word)</figcaption>
        <div class="chart-box"><canvas id="chart-loss" data-testid="chart-loss" role="img" aria-labelledby="loss-caption"></canvas></div>
      </figure>
      <figure>
        <figcaption id="accuracy-caption">Accuracy (next word, top-1)</figcaption>
        <div class="chart-box"><canvas id="chart-accuracy" data-testid="chart-accuracy" role="img" aria-labelledby="accuracy-caption"></canvas></div>
      </figure>
    </section>`;
