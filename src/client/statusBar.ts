/**
 * One status bar item: the model that suggests, the latency of the last suggestion, and
 * how many runs are training. Clicking it turns suggestions on or off.
 */
import * as vscode from 'vscode';
import { cellName, plural } from '../protocol/format';
import type { Config } from './config';
import type { Runs } from './runs';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('seqlab.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[];
  /** Round trip of the last suggestion as the editor saw it, and the engine's share of it. */
  private latency: number | undefined;
  private engineLatency: number | undefined;

  constructor(
    private readonly config: Config,
    private readonly runs: Runs,
  ) {
    this.item.name = 'SeqLab';
    this.item.command = { title: 'Toggle Suggestions', command: 'seqlab.toggleSuggestions' };
    this.subscriptions = [config.onDidChange(() => this.render()), runs.onDidChange(() => this.render())];
    this.render();
    this.item.show();
  }

  /** Called by the suggestions middleware after each answered request. */
  setLatency(milliseconds: number): void {
    this.latency = milliseconds;
    this.render();
  }

  /** Called when the engine reports its own time for a suggestion. */
  setEngineLatency(milliseconds: number): void {
    this.engineLatency = milliseconds;
    this.render();
  }

  private render(): void {
    const enabled = this.config.suggestions.enabled;
    const active = this.runs.active;
    const training = this.runs.training.length;

    const model = active ? `${cellName(active.cell)} · ${active.corpusName}` : 'no model';
    const latency = enabled && active && this.latency !== undefined ? ` · ${Math.round(this.latency)} ms` : '';
    const busy = training > 0 ? ` $(sync~spin) ${training}` : '';
    this.item.text = `${enabled ? '$(sparkle)' : '$(circle-slash)'} SeqLab: ${enabled ? model : 'off'}${latency}${busy}`;

    const lines = [
      enabled
        ? active
          ? `Suggestions from ${this.runs.label(active)}.`
          : 'Suggestions are on, but no model is chosen: run "SeqLab: Use Model for Suggestions".'
        : 'Suggestions are off.',
      ...(latency
        ? [
            `The last suggestion took ${Math.round(this.latency ?? 0)} ms from request to answer` +
              (this.engineLatency === undefined ? '.' : `, ${Math.round(this.engineLatency)} ms of it in the engine.`),
          ]
        : []),
      ...(training > 0 ? [`${plural(training, 'run')} training or queued.`] : []),
      `Click to turn suggestions ${enabled ? 'off' : 'on'}.`,
    ];
    this.item.tooltip = lines.join('\n');
    this.item.accessibilityInformation = { label: `SeqLab. ${lines.join(' ')}`, role: 'button' };
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}
