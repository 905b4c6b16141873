/**
 * "SeqLab: Memory Through Time": the runs ticked in the Models view (those that have
 * finished), or when none of them has, the finished runs the person picks, measured and
 * drawn in the Memory Through Time panel.
 */
import * as vscode from 'vscode';
import { hasModel, isActiveState, sizeLabel } from '../protocol/format';
import type { RunInfo } from '../protocol/lsp';
import { UserFacingError } from './errors';
import type { Services } from './services';

export async function memoryThroughTime(s: Services, runId?: unknown): Promise<void> {
  const finished = s.runs.withModel.filter((run) => !isActiveState(run.state));
  if (finished.length === 0) {
    throw new UserFacingError('No run has finished yet; memory through time measures a trained model, so train one first.');
  }
  const named = typeof runId === 'string' ? finished.filter((run) => run.id === runId) : [];
  const ticked = s.selection.runIds.map((id) => s.runs.get(id)).filter((run): run is RunInfo => !!run && hasModel(run) && !isActiveState(run.state));
  const runs = named.length > 0 ? named : ticked.length > 0 ? ticked : await pickFinished(s, finished);
  if (runs.length === 0) return;
  await s.memory.show(runs.map((run) => run.id));
}

/** A multiple pick among the finished runs, newest first. */
async function pickFinished(s: Services, finished: RunInfo[]): Promise<RunInfo[]> {
  const items = [...finished]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((run) => ({ run, label: s.runs.label(run), description: sizeLabel(run) }));
  const picked = await vscode.window.showQuickPick(items, { title: 'Memory Through Time: Runs', placeHolder: 'Which runs to measure and overlay?', canPickMany: true });
  return picked?.map((item) => item.run) ?? [];
}
