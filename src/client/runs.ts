/**
 * The extension's copy of the engine's runs registry. The engine owns the truth (on disk,
 * under global storage); this mirror is refreshed from `seqlab/runs` when the engine
 * (re)starts and from every `seqlab/runsChanged`, so the status bar, the Models view,
 * the dashboard and the quick picks all read the same list without asking the engine.
 */
import * as vscode from 'vscode';
import { hasModel, isActiveState } from '../protocol/format';
import type { RunInfo, RunsResult } from '../protocol/lsp';
import { runLabels } from './runLabels';

/** Where the last registry the engine sent is kept, to show at once after a window reload. */
const LAST_RUNS_KEY = 'seqlab.lastRuns';

export class Runs implements vscode.Disposable {
  private result: RunsResult = { runs: [], activeRunId: null };
  private names: Record<string, string> = {};
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  /**
   * `memory` keeps the last registry: the engine takes a second or more to start after a
   * window reload, and until it answers the views show the runs as they last were rather
   * than "No models yet".
   */
  constructor(private readonly memory?: vscode.Memento) {
    const last = memory?.get<RunsResult>(LAST_RUNS_KEY);
    if (last && Array.isArray(last.runs)) this.apply(last);
  }

  get all(): readonly RunInfo[] {
    return this.result.runs;
  }

  /** Every run's unique name ("GRU 19:41", "GRU 19:41:07"), the same in every view and message. */
  get labels(): Readonly<Record<string, string>> {
    return this.names;
  }

  /** A run as messages and quick picks name it: its unique name and its text, "GRU 19:41 on notes.md". */
  label(run: RunInfo): string {
    return `${this.names[run.id] ?? runLabels([run])[run.id]} on ${run.corpusName}`;
  }

  get activeRunId(): string | null {
    return this.result.activeRunId;
  }

  get active(): RunInfo | undefined {
    return this.get(this.result.activeRunId);
  }

  get(id: string | null | undefined): RunInfo | undefined {
    return id ? this.result.runs.find((run) => run.id === id) : undefined;
  }

  /** Runs that have a usable model (finished at least one epoch). */
  get withModel(): RunInfo[] {
    return this.result.runs.filter(hasModel);
  }

  get training(): RunInfo[] {
    return this.result.runs.filter((run) => isActiveState(run.state));
  }

  update(result: RunsResult): void {
    this.apply(result);
    void this.memory?.update(LAST_RUNS_KEY, this.result);
  }

  private apply(result: RunsResult): void {
    this.result = { runs: [...result.runs], activeRunId: result.activeRunId };
    this.names = runLabels(this.result.runs);
    // Context keys drive the command palette's when-clauses in package.json.
    void vscode.commands.executeCommand('setContext', 'seqlab.hasRuns', this.result.runs.length > 0);
    void vscode.commands.executeCommand('setContext', 'seqlab.hasModels', this.withModel.length > 0);
    void vscode.commands.executeCommand('setContext', 'seqlab.isTraining', this.training.length > 0);
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
