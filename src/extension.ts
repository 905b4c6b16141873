/**
 * SeqLab's entry point: builds the services, wires them together and starts the engine.
 * Everything with behaviour lives in src/client/.
 */
import type * as vscode from 'vscode';
import { CellsPanel } from './client/cellsPanel';
import { registerCommands } from './client/commands';
import { Config } from './client/config';
import { Dashboard } from './client/dashboardPanel';
import { Engine } from './client/engine';
import { reportError } from './client/errors';
import { createLog } from './client/log';
import { MemoryPanel } from './client/memoryPanel';
import { ModelsView } from './client/modelsView';
import { Runs } from './client/runs';
import { Selection } from './client/selection';
import { StatusBar } from './client/statusBar';
import { suggestionsMiddleware } from './client/suggestions';

let engine: Engine | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = createLog();
  const config = new Config(log);
  const runs = new Runs(context.globalState);
  const selection = new Selection(context.workspaceState, runs);
  const statusBar = new StatusBar(config, runs);
  engine = new Engine(context, config, log, runs, suggestionsMiddleware(config, (ms) => statusBar.setLatency(ms)));
  const latency = engine.onSuggestionLatency((l) => statusBar.setEngineLatency(l.milliseconds));
  const dashboard = new Dashboard(context.extensionUri, engine, runs, selection, log);
  const cells = new CellsPanel(context.extensionUri, engine, log);
  const memory = new MemoryPanel(context.extensionUri, engine, runs, log);
  const services = { context, log, config, engine, runs, selection, dashboard, cells, memory };
  context.subscriptions.push(
    log,
    config,
    runs,
    selection,
    statusBar,
    latency,
    dashboard,
    cells,
    memory,
    new ModelsView(context.extensionUri, engine, runs, selection, config, dashboard, log),
    ...registerCommands(services),
  );
  // Not awaited: activation must not wait for TensorFlow.js to load in the engine.
  engine
    .start()
    .catch((error) =>
      reportError(log, 'Starting the SeqLab engine', error, 'The SeqLab engine could not start; the details are in the SeqLab output.'),
    );
}

export async function deactivate(): Promise<void> {
  await engine?.dispose();
  engine = undefined;
}
