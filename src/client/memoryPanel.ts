/**
 * The Memory Through Time panel: asks the engine for each run's curves
 * (seqlab/inspectMemory), one run after another, and hands the page (src/webviews/memory.ts)
 * the whole picture after each step, so it shows which run is being measured and draws
 * the runs measured so far. The engine keeps each run's curves, so showing them again is
 * immediate. After a window reload the serializer measures the runs the page's state names.
 */
import * as vscode from 'vscode';
import { Methods } from '../protocol/lsp';
import { isMemoryToHost, isMemoryViewState, type HostToMemory, type MemoryPanelRun } from '../protocol/memory';
import type { Engine } from './engine';
import { reportError } from './errors';
import type { Log } from './log';
import type { Runs } from './runs';
import { loadPanelPage, webviewOptions } from './webviewHtml';

export class MemoryPanel implements vscode.Disposable {
  static readonly viewType = 'seqlab.memory';
  static readonly title = 'SeqLab Memory Through Time';

  private panel: vscode.WebviewPanel | undefined;
  private panelSubscriptions: vscode.Disposable[] = [];
  private readonly subscriptions: vscode.Disposable[];
  private shown: MemoryPanelRun[] = [];
  /** Bumped by every show, so the measurements of an older request stop updating the page. */
  private generation = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly engine: Engine,
    private readonly runs: Runs,
    private readonly log: Log,
  ) {
    this.subscriptions = [
      vscode.window.registerWebviewPanelSerializer(MemoryPanel.viewType, {
        deserializeWebviewPanel: async (panel, state) => {
          this.attach(panel);
          const runIds = isMemoryViewState(state) ? state.runIds.filter((id) => this.runs.get(id)) : [];
          if (runIds.length > 0) void this.show(runIds);
        },
      }),
    ];
  }

  /** Opens (or reveals) the panel on these runs, in colour order, and measures the ones the engine has not yet. */
  async show(runIds: readonly string[]): Promise<void> {
    const generation = ++this.generation;
    const labels = this.runs.labels;
    this.shown = runIds.map((runId, colourIndex) => ({ runId, label: labels[runId] ?? runId, colourIndex, status: 'waiting' }));
    if (!this.panel) {
      this.attach(
        vscode.window.createWebviewPanel(MemoryPanel.viewType, MemoryPanel.title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(this.extensionUri)),
      );
    } else {
      this.panel.reveal(undefined, true);
    }
    this.post();
    for (const entry of this.shown) {
      if (generation !== this.generation) return;
      entry.status = 'measuring';
      this.post();
      try {
        entry.memory = await this.engine.request(Methods.inspectMemory, { runId: entry.runId });
        entry.status = 'done';
      } catch (error) {
        entry.status = 'failed';
        entry.error = error instanceof Error ? error.message : String(error);
        this.log.warn(`Memory through time of ${entry.runId}: ${entry.error}`);
      }
      if (generation === this.generation) this.post();
    }
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    const page = loadPanelPage(panel, this.extensionUri, {
      title: MemoryPanel.title,
      script: 'memory',
      styles: ['common.css', 'panelHeader.css', 'charts.css', 'memory.css'],
      body: MEMORY_BODY,
    }, this.log);
    this.panelSubscriptions = [
      page,
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (!isMemoryToHost(message)) {
          this.log.warn(`Ignored a malformed message from the Memory Through Time panel: ${JSON.stringify(message)}`);
          return;
        }
        // 'ready': the page (re)loaded; give it what it showed.
        this.post();
      }),
      panel.onDidDispose(() => {
        for (const d of this.panelSubscriptions) d.dispose();
        this.panelSubscriptions = [];
        this.panel = undefined;
        this.shown = [];
        this.generation++;
      }),
    ];
  }

  private post(): void {
    if (!this.panel?.visible || this.shown.length === 0) return;
    const message: HostToMemory = { type: 'show', runs: this.shown };
    void this.panel.webview.postMessage(message).then(undefined, (error) => reportError(this.log, 'Showing memory through time', error));
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.subscriptions) d.dispose();
  }
}

/** Static skeleton; src/webviews/memory.ts fills it in. */
const MEMORY_BODY = `
    <header>
      <h1>Memory Through Time</h1>
      <p id="progress-text" class="summary" role="status" data-testid="memory-progress">Measuring…</p>
      <progress id="progress" data-testid="memory-progress-bar" max="1" value="0"></progress>
    </header>
    <ul id="legend" class="legend" aria-label="Runs" data-testid="memory-legend"></ul>
    <section class="charts">
      <figure>
        <figcaption>Gradient norm ‖dL<sub>t</sub>/dh<sub>t−k</sub>‖ by steps back k</figcaption>
        <div class="chart-box"><canvas id="gradient" data-testid="memory-gradient" role="img" aria-label="Gradient norm by steps back, log scale, runs overlaid"></canvas></div>
        <p class="note">How much the loss now still depends on the state k words ago: falling fast is a vanishing gradient. Log scale; shaded: 10–90% of held-out windows.</p>
      </figure>
      <figure>
        <figcaption>Held-out loss by tokens of context</figcaption>
        <div class="chart-box"><canvas id="context" data-testid="memory-context" role="img" aria-label="Held-out loss by tokens of context, runs overlaid"></canvas></div>
        <p class="note">Nats per token when the model reads only the last n tokens; dashed: after reading all the text before. Where the line meets the dashed one is how far back the model uses.</p>
      </figure>
    </section>
    <ul id="failures" class="error" data-testid="memory-failures" hidden></ul>`;
