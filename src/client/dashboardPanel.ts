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
import { metricsCsv, metricsJson, type ExportFormat } from './metricsExport';
import type { Runs } from './runs';
import type { Selection } from './selection';
import { loadPanelPage, webviewOptions } from './webviewHtml';

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
    const page = loadPanelPage(panel, this.extensionUri, {
      title: Dashboard.title,
      script: 'dashboard',
      styles: ['common.css', 'charts.css', 'dashboard.css'],
      body: DASHBOARD_BODY,
    }, this.log);
    this.panelSubscriptions = [
      page,
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
      case 'export':
        void this.exportMetrics(message.format);
        break;
    }
  }

  /**
   * Saves the shown runs' full curves (the engine's record, not what the chart smooths or
   * thins) where the person chooses. The page cannot write files, so it only asks.
   */
  private async exportMetrics(format: ExportFormat): Promise<void> {
    const runs = this.selectedRuns();
    try {
      if (runs.length === 0) {
        void vscode.window.showInformationMessage('No runs are shown in the dashboard to export.');
        return;
      }
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const name = `seqlab-metrics.${format}`;
      const target = await vscode.window.showSaveDialog({
        title: `Export the metrics of ${runs.length === 1 ? 'the shown run' : `the ${runs.length} shown runs`}`,
        defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
        filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
      });
      if (!target) return;
      const { histories } = await this.engine.request(Methods.history, { runIds: runs.map((run) => run.id) });
      const labels = this.runs.labels;
      const exported = runs.map((info) => ({ info, label: labels[info.id], history: histories.find((h) => h.runId === info.id) }));
      const text = format === 'csv' ? metricsCsv(exported) : metricsJson(exported, new Date());
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
      this.log.info(`Exported the metrics of ${runs.length} run(s) to ${target.toString(true)}`);
      const choice = await vscode.window.showInformationMessage(`Metrics of ${runs.length} run(s) saved to ${target.fsPath}.`, 'Open');
      if (choice) await vscode.window.showTextDocument(target);
    } catch (error) {
      reportError(this.log, 'Exporting the dashboard metrics', error);
    }
  }

  /** Sends the selected runs with their curves so far. */
  private async sendShow(): Promise<void> {
    if (!this.panel) return;
    const generation = ++this.generation;
    const runs = this.selectedRuns();
    const runIds = runs.map((run) => run.id);
    // The runs' cards at once (after a window reload, from the last known registry): the
    // curves need the engine, which takes a second or more to start.
    if (runIds.length > 0 && runIds.some((id, i) => id !== this.shown[i])) {
      this.post({ type: 'show', runs, histories: [], labels: this.runs.labels });
    }
    try {
      const { histories } = runIds.length > 0 ? await this.engine.request(Methods.history, { runIds }) : { histories: [] };
      if (generation !== this.generation) return;
      // Posted without awaiting anything else: progress sent after the history reply must arrive after it.
      this.shown = runIds;
      this.post({ type: 'show', runs: this.selectedRuns(), histories, labels: this.runs.labels });
    } catch (error) {
      reportError(this.log, 'Loading the dashboard curves', error);
    }
  }

  private onRunsChanged(): void {
    const ids = this.selectedRuns().map((run) => run.id);
    const sameRuns = ids.length === this.shown.length && ids.every((id, i) => id === this.shown[i]);
    // Names may change without the shown runs changing: a new run can make two read alike.
    if (sameRuns) this.post({ type: 'runs', runs: this.selectedRuns(), labels: this.runs.labels });
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
        <span class="key-batch">thin: training, per batch (smoothed over a faint raw line)</span>
        <span class="key-epoch">solid: training, per epoch</span>
        <span class="key-val">dashed: validation, per epoch</span>
      </p>
    </header>
    <p id="empty" class="empty" data-testid="dashboard-empty" hidden>
      No runs to show. Train a model with "SeqLab: Train Model on Current File", or tick runs in the Models view.
    </p>
    <section id="runs" class="runs" aria-label="Runs" data-testid="dashboard-runs"></section>
    <section class="controls" aria-label="Chart controls" data-testid="chart-controls">
      <label title="Debiased exponential moving average of the per-batch curves, as in TensorBoard">Smoothing
        <input id="smoothing" type="range" min="0" max="0.99" step="0.01" data-testid="smoothing">
        <output id="smoothing-value" for="smoothing"></output>
      </label>
      <label>X axis
        <select id="x-mode" data-testid="x-mode">
          <option value="step">step</option>
          <option value="epoch">epoch</option>
          <option value="time">wall time</option>
        </select>
      </label>
      <label><input id="log-y" type="checkbox" data-testid="log-y"> Log scale</label>
      <label title="Scale the y axis to the 5th to 95th percentile of the values in view">
        <input id="ignore-outliers" type="checkbox" data-testid="ignore-outliers"> Ignore outliers
      </label>
      <button id="reset-zoom" type="button" data-testid="reset-zoom" title="Show every step again (or double-click a chart)" hidden>Reset zoom</button>
      <span class="exports">
        <button id="export-csv" type="button" data-testid="export-csv" title="Save every shown run's metrics as CSV">Export CSV</button>
        <button id="export-json" type="button" data-testid="export-json" title="Save every shown run's settings, results and metrics as JSON">Export JSON</button>
      </span>
    </section>
    <section class="charts" aria-label="Charts">
      <figure>
        <figcaption id="loss-caption">Loss (cross-entropy, nats per word)</figcaption>
        <div class="chart-box"><canvas id="chart-loss" data-testid="chart-loss" role="img" aria-labelledby="loss-caption"></canvas></div>
      </figure>
      <figure>
        <figcaption id="accuracy-caption">Accuracy (next word, top-1)</figcaption>
        <div class="chart-box"><canvas id="chart-accuracy" data-testid="chart-accuracy" role="img" aria-labelledby="accuracy-caption"></canvas></div>
      </figure>
    </section>
    <p class="hint">Drag across a chart to zoom in on those steps; double-click to zoom out.</p>
    <section id="settings" class="settings" aria-labelledby="settings-caption" hidden>
      <h2 id="settings-caption">Settings
        <label class="diff-only"><input id="diff-only" type="checkbox" data-testid="diff-only"> differences only</label>
      </h2>
      <p id="settings-note" class="note" data-testid="settings-note"></p>
      <div class="table-box"><table id="settings-table" data-testid="settings-table"></table></div>
    </section>`;
