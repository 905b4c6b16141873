/**
 * The cell inspector's panel: asks the engine for a span's values (seqlab/inspectCells)
 * and hands them to the page (src/webviews/cells.ts), which draws the heat map and the
 * ranking. The host keeps the last inspection, so a page shown again after hiding gets it
 * back at once; after a window reload the serializer asks the engine again for what the
 * page's state says was inspected.
 */
import * as vscode from 'vscode';
import { isCellsToHost, isCellsViewState, type CellInspection, type CellsRequest, type HostToCells } from '../protocol/cells';
import { Methods } from '../protocol/lsp';
import type { Engine } from './engine';
import { reportError } from './errors';
import type { Log } from './log';
import { loadPanelPage, webviewOptions } from './webviewHtml';

export class CellsPanel implements vscode.Disposable {
  static readonly viewType = 'seqlab.cells';
  static readonly title = 'SeqLab Cell Inspector';

  private panel: vscode.WebviewPanel | undefined;
  private panelSubscriptions: vscode.Disposable[] = [];
  private readonly subscriptions: vscode.Disposable[];
  private shown: { inspection: CellInspection; request: CellsRequest } | undefined;
  /** Bumped by every inspection asked for, so a slow answer never replaces a newer one. */
  private generation = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly engine: Engine,
    private readonly log: Log,
  ) {
    this.subscriptions = [
      vscode.window.registerWebviewPanelSerializer(CellsPanel.viewType, {
        deserializeWebviewPanel: async (panel, state) => {
          this.attach(panel);
          if (isCellsViewState(state) && state.request) void this.inspect(state.request).catch((error) => this.showError(error));
        },
      }),
    ];
  }

  /** Asks the engine for the inspection and shows it beside the editor; throws the engine's sentence. */
  async inspect(request: CellsRequest, token?: vscode.CancellationToken): Promise<void> {
    const generation = ++this.generation;
    const inspection = await this.engine.request(Methods.inspectCells, request.params, token);
    if (generation !== this.generation) return;
    this.shown = { inspection, request };
    if (!this.panel) {
      this.attach(
        vscode.window.createWebviewPanel(CellsPanel.viewType, CellsPanel.title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(this.extensionUri)),
      );
    } else {
      this.panel.reveal(undefined, true);
    }
    this.post({ type: 'show', ...this.shown });
  }

  private showError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.post({ type: 'error', message: `This inspection could not be made again (${message.replace(/\.$/, '')}); run "SeqLab: Inspect Cells" on the text.` });
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    const page = loadPanelPage(panel, this.extensionUri, {
      title: CellsPanel.title,
      script: 'cells',
      styles: ['common.css', 'panelHeader.css', 'cells.css'],
      body: CELLS_BODY,
    }, this.log);
    this.panelSubscriptions = [
      page,
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (!isCellsToHost(message)) {
          this.log.warn(`Ignored a malformed message from the cell inspector: ${JSON.stringify(message)}`);
          return;
        }
        // 'ready': the page (re)loaded; give it what it showed.
        if (this.shown) this.post({ type: 'show', ...this.shown });
      }),
      panel.onDidDispose(() => {
        for (const d of this.panelSubscriptions) d.dispose();
        this.panelSubscriptions = [];
        this.panel = undefined;
        this.shown = undefined;
      }),
    ];
  }

  private post(message: HostToCells): void {
    if (this.panel?.visible) void this.panel.webview.postMessage(message).then(undefined, (error) => reportError(this.log, 'Showing the cell inspector', error));
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.subscriptions) d.dispose();
  }
}

/** Static skeleton; src/webviews/cells.ts fills it in. */
const CELLS_BODY = `
    <header>
      <h1>Cell Inspector</h1>
      <p id="summary" class="summary" data-testid="cells-summary">Reading the text…</p>
    </header>
    <p id="error" class="error" role="alert" data-testid="cells-error" hidden></p>
    <section class="controls" aria-label="What to show" data-testid="cells-controls">
      <label>Show <select id="signal" data-testid="cells-signal"></select></label>
      <label>Unit <input id="unit" type="number" min="0" step="1" data-testid="cells-unit"></label>
      <span class="steps">
        <button id="unit-previous" type="button" title="The previous unit" aria-label="Previous unit">‹</button>
        <button id="unit-next" type="button" title="The next unit" aria-label="Next unit">›</button>
      </span>
      <span id="legend" class="legend" aria-label="Colour scale" data-testid="cells-legend"></span>
    </section>
    <section class="layout">
      <div id="heatmap" class="heatmap" role="document" aria-label="The text coloured by the unit's value" data-testid="cells-heatmap"></div>
      <section class="ranking" aria-labelledby="ranking-caption">
        <h2 id="ranking-caption">Units that follow the text</h2>
        <p id="ranking-note" class="note" data-testid="cells-ranking-note"></p>
        <table id="ranking" data-testid="cells-ranking"></table>
      </section>
    </section>`;
