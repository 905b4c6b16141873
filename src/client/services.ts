/**
 * Everything a command needs, made once in `activate` and passed explicitly (the
 * rust-analyzer `Ctx` idea), so no module keeps hidden global state.
 */
import type * as vscode from 'vscode';
import type { CellsPanel } from './cellsPanel';
import type { Config } from './config';
import type { Dashboard } from './dashboardPanel';
import type { Engine } from './engine';
import type { Log } from './log';
import type { MemoryPanel } from './memoryPanel';
import type { Runs } from './runs';
import type { Selection } from './selection';

export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly log: Log;
  readonly config: Config;
  readonly engine: Engine;
  readonly runs: Runs;
  readonly selection: Selection;
  readonly dashboard: Dashboard;
  readonly cells: CellsPanel;
  readonly memory: MemoryPanel;
}
