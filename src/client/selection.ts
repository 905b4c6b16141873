/**
 * The runs whose curves the dashboard overlays, in colour order. Ticking rows in the Models
 * view changes it, and starting a training or comparison replaces it with the new runs, so
 * the dashboard and the checkboxes always agree. Kept in workspace state so a window reload
 * shows the same runs.
 */
import * as vscode from 'vscode';
import type { Runs } from './runs';

const KEY = 'seqlab.selectedRuns';

export class Selection implements vscode.Disposable {
  private ids: string[];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly memento: vscode.Memento,
    runs: Runs,
  ) {
    const saved = memento.get<unknown>(KEY);
    this.ids = Array.isArray(saved) ? saved.filter((id): id is string => typeof id === 'string') : [];
    // Deleted runs leave the selection (the registry only changes on the engine's word).
    this.subscription = runs.onDidChange(() => {
      const kept = this.ids.filter((id) => runs.get(id));
      if (kept.length !== this.ids.length) this.set(kept);
    });
  }

  get runIds(): readonly string[] {
    return this.ids;
  }

  set(runIds: readonly string[]): void {
    const next = [...new Set(runIds)];
    if (next.length === this.ids.length && next.every((id, i) => id === this.ids[i])) return;
    this.ids = next;
    void this.memento.update(KEY, next);
    this.changed.fire();
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
