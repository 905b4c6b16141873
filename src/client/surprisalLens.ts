/**
 * "SeqLab: Toggle Surprisal Lens": shades every word of the visible editors by how
 * surprised the active model is by it (the engine's seqlab/surprisal), with a legend in
 * the status bar and a hover that shows the model's five guesses there. The shading uses
 * five theme colours (package.json `contributes.colors`, seqlab.surprisal0Background …),
 * so it reads in light, dark and high-contrast themes and a theme can restyle it.
 */
import * as vscode from 'vscode';
import { Methods } from '../protocol/lsp';
import {
  surprisalBucket,
  surprisalBucketLabel,
  SURPRISAL_BUCKETS,
  totalTokenNats,
  type SurprisalGuessesResult,
  type SurprisalResult,
  type SurprisalToken,
} from '../protocol/surprisal';
import { isCancellation, reportError } from './errors';
import type { Services } from './services';

/** Quiet time after an edit before the document is scored again: typing should not queue passes. */
const DEBOUNCE_MS = 500;
/** The legend's blocks, one per bucket, low to high. */
const BLOCKS = '▁▃▅▇█';
const NO_MODEL = 'No model is chosen for the surprisal lens; run "SeqLab: Use Model for Suggestions" first.';

const lenses = new WeakMap<Services, SurprisalLens>();

/** The command: one lens per activation, made on first use. */
export function toggleSurprisalLens(s: Services): void {
  let lens = lenses.get(s);
  if (!lens) {
    lens = new SurprisalLens(s);
    lenses.set(s, lens);
    s.context.subscriptions.push(lens);
  }
  lens.toggle();
}

export class SurprisalLens implements vscode.Disposable {
  private readonly decorationTypes = Array.from({ length: SURPRISAL_BUCKETS }, (_, bucket) =>
    vscode.window.createTextEditorDecorationType({
      backgroundColor: new vscode.ThemeColor(`seqlab.surprisal${bucket}Background`),
      borderRadius: '2px',
    }),
  );
  private readonly legend = vscode.window.createStatusBarItem('seqlab.surprisalLegend', vscode.StatusBarAlignment.Right, 99);
  /** The last result per document, drawn while its version is the document's. */
  private readonly results = new Map<string, SurprisalResult>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private listeners: vscode.Disposable[] = [];
  private activeRunId: string | null = null;

  constructor(private readonly s: Services) {
    this.legend.name = 'SeqLab Surprisal Lens';
    this.legend.command = { title: 'Toggle Surprisal Lens', command: 'seqlab.toggleSurprisalLens' };
  }

  get enabled(): boolean {
    return this.listeners.length > 0;
  }

  toggle(): void {
    if (this.enabled) return this.turnOff();
    if (this.s.runs.activeRunId === null) {
      void vscode.window.showInformationMessage(NO_MODEL);
      return;
    }
    this.activeRunId = this.s.runs.activeRunId;
    this.listeners = [
      vscode.languages.registerHoverProvider([{ scheme: 'file' }, { scheme: 'untitled' }], { provideHover: (d, p, t) => this.hover(d, p, t) }),
      vscode.workspace.onDidChangeTextDocument((e) => e.contentChanges.length > 0 && this.schedule(e.document)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshVisible()),
      vscode.workspace.onDidCloseTextDocument((d) => this.results.delete(d.uri.toString())),
      this.s.runs.onDidChange(() => this.modelMaybeChanged()),
    ];
    this.refreshVisible();
  }

  dispose(): void {
    this.turnOff();
    this.decorationTypes.forEach((t) => t.dispose());
    this.legend.dispose();
  }

  private turnOff(): void {
    this.listeners.forEach((l) => l.dispose());
    this.listeners = [];
    this.timers.forEach((t) => clearTimeout(t));
    this.timers.clear();
    this.results.clear();
    for (const editor of vscode.window.visibleTextEditors) this.decorationTypes.forEach((t) => editor.setDecorations(t, []));
    this.legend.hide();
  }

  /** Another model suggests now (or none): what was drawn is the old model's. */
  private modelMaybeChanged(): void {
    const runId = this.s.runs.activeRunId;
    if (runId === this.activeRunId) return;
    this.activeRunId = runId;
    this.results.clear();
    this.refreshVisible();
  }

  private schedule(document: vscode.TextDocument): void {
    const uri = document.uri.toString();
    clearTimeout(this.timers.get(uri));
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        void this.refresh(document);
      }, DEBOUNCE_MS),
    );
  }

  private refreshVisible(): void {
    const documents = new Set(vscode.window.visibleTextEditors.map((e) => e.document));
    for (const document of documents) void this.refresh(document);
  }

  /** Asks the engine for the document's surprisal (cached there per version) and draws it. */
  private async refresh(document: vscode.TextDocument): Promise<void> {
    if (!this.enabled || !['file', 'untitled'].includes(document.uri.scheme)) return;
    if (this.activeRunId === null) {
      this.results.delete(document.uri.toString());
      this.draw(document);
      this.showLegend(undefined, NO_MODEL);
      return;
    }
    const cached = this.results.get(document.uri.toString());
    if (cached && cached.version === document.version && cached.runId === this.activeRunId) return this.draw(document);
    this.legend.text = '$(sync~spin) Surprisal…';
    this.legend.tooltip = 'SeqLab is scoring the document with the active model.';
    this.legend.show();
    const version = document.version;
    try {
      const result = await this.s.engine.request(Methods.surprisal, { uri: document.uri.toString() });
      // An edit or a toggle while the engine worked: the next refresh draws the new text.
      if (!this.enabled || result.version !== document.version) return;
      this.results.set(result.uri, result);
      this.draw(document);
    } catch (error) {
      // The engine stops scoring text that changed under it; the edit's own refresh follows.
      if (!this.enabled || document.isClosed || document.version !== version || isCancellation(error)) return;
      reportError(this.s.log, 'seqlab.toggleSurprisalLens', error);
    }
  }

  /** Shades the document's words in every editor showing it, one decoration type per bucket. */
  private draw(document: vscode.TextDocument): void {
    const result = this.results.get(document.uri.toString());
    const ranges: vscode.Range[][] = Array.from({ length: SURPRISAL_BUCKETS }, () => []);
    if (result && result.version === document.version) {
      const text = document.getText();
      for (const token of result.tokens) {
        const nats = totalTokenNats(token);
        // Line breaks are scored but have nothing to shade.
        if (nats === null || text[token.start] === '\n' || text[token.start] === '\r') continue;
        ranges[surprisalBucket(nats)].push(new vscode.Range(document.positionAt(token.start), document.positionAt(token.end)));
      }
    }
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document !== document) continue;
      this.decorationTypes.forEach((type, bucket) => editor.setDecorations(type, ranges[bucket]));
    }
    if (vscode.window.activeTextEditor?.document === document || !vscode.window.activeTextEditor) this.showLegend(result);
  }

  private showLegend(result: SurprisalResult | undefined, problem?: string): void {
    this.legend.text = `$(eye) Surprisal: low ${BLOCKS} high`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown('**SeqLab surprisal lens**: how surprised the active model is by each word, in nats (−ln p).\n\n');
    tooltip.appendMarkdown(
      Array.from({ length: SURPRISAL_BUCKETS }, (_, b) => `${BLOCKS[b]} ${surprisalBucketLabel(b)} nats`).join('  \n') + '\n\n',
    );
    if (result && result.predicted > 0) {
      tooltip.appendMarkdown(
        `${result.predicted.toLocaleString('en')} words scored in ${(result.milliseconds / 1000).toFixed(1)} s, ` +
          `${(result.totalNats / result.predicted).toFixed(2)} nats a word on average (perplexity ${Math.exp(result.totalNats / result.predicted).toFixed(0)}).\n\n`,
      );
    }
    if (problem) tooltip.appendMarkdown(`${problem}\n\n`);
    tooltip.appendMarkdown('Hover a word for the model\'s guesses there. Click to turn the lens off.');
    this.legend.tooltip = tooltip;
    this.legend.show();
  }

  private async hover(document: vscode.TextDocument, position: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const result = this.results.get(document.uri.toString());
    if (!result || result.version !== document.version) return undefined;
    const offset = document.offsetAt(position);
    const index = tokenAt(result.tokens, offset);
    if (index === undefined) return undefined;
    const scored = result.tokens[index];
    const word = document.getText(new vscode.Range(document.positionAt(scored.start), document.positionAt(scored.end)));
    const range = new vscode.Range(document.positionAt(scored.start), document.positionAt(scored.end));
    if (scored.nats === null) return new vscode.Hover(`**${escape(word)}**: the first word is read, not predicted.`, range);
    const guesses = await this.s.engine
      .request(Methods.surprisalGuesses, { uri: result.uri, version: result.version, index }, token)
      .catch(() => undefined);
    return new vscode.Hover(hoverText(word, scored, guesses), range);
  }
}

/** The token whose range holds `offset`, by binary search over the sorted ranges. */
function tokenAt(tokens: readonly SurprisalToken[], offset: number): number | undefined {
  let low = 0;
  let high = tokens.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (offset < tokens[mid].start) high = mid - 1;
    else if (offset >= tokens[mid].end) low = mid + 1;
    else return mid;
  }
  return undefined;
}

/** The hover: the word's cost, its rank, and the model's five guesses with their probabilities. */
export function hoverText(word: string, token: SurprisalToken, guesses: SurprisalGuessesResult | undefined): vscode.MarkdownString {
  const text = new vscode.MarkdownString();
  const nats = token.nats!;
  if (token.unknown) {
    const spelling = token.spellingNats === null ? '' : `, and ${token.spellingNats.toFixed(1)} more to spell it letter by letter`;
    text.appendMarkdown(`**${escape(word)}** is not in the model's vocabulary: the unknown word cost **${nats.toFixed(1)} nats**${spelling}.\n\n`);
  } else {
    text.appendMarkdown(`**${escape(word)}**: **${nats.toFixed(1)} nats** (p = ${formatProbability(Math.exp(-nats))}), the model's guess number ${token.rank}.\n\n`);
  }
  if (guesses && guesses.guesses.length > 0) {
    text.appendMarkdown('| the model guessed | p |\n|---|---:|\n');
    for (const guess of guesses.guesses) text.appendMarkdown(`| ${escape(guess.token === '\n' ? '↵ (line break)' : guess.token)} | ${formatProbability(guess.probability)} |\n`);
  }
  return text;
}

function formatProbability(p: number): string {
  return p >= 0.01 ? `${(p * 100).toFixed(1)}%` : p.toExponential(1);
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}
