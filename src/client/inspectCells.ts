/**
 * "SeqLab: Inspect Cells": the selection (or the text around the cursor) of the active
 * editor, looked at through the model that suggests (or one the person picks when none
 * does), in the cell inspector panel.
 */
import * as vscode from 'vscode';
import type { CellsRequest } from '../protocol/cells';
import { UserFacingError } from './errors';
import { pickRun } from './pickers';
import type { Services } from './services';

/** Characters taken on each side of the cursor when nothing is selected: a few hundred words in all. */
const AROUND_CURSOR = 1200;

export async function inspectCells(s: Services, runId?: unknown): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) throw new UserFacingError('Open a text file and select the text to inspect.');
  const withModel = s.runs.withModel;
  if (withModel.length === 0) throw new UserFacingError('There is no trained model yet; run "SeqLab: Train Model on Current File" first.');
  const chosen = typeof runId === 'string' ? runId : (s.runs.activeRunId ?? undefined);
  const run = chosen ? s.runs.get(chosen) : await pickRun(withModel, 'Inspect Cells with Model', null, (r) => s.runs.label(r));
  if (!run) return;
  const { document } = editor;
  const range = editor.selection.isEmpty ? aroundCursor(document, editor.selection.active) : editor.selection;
  const request: CellsRequest = {
    params: { runId: run.id, uri: document.uri.toString(), range: { start: range.start, end: range.end } },
    label: s.runs.label(run),
    source: vscode.workspace.asRelativePath(document.uri),
  };
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `SeqLab: reading the text with ${request.label}`, cancellable: true },
    (_progress, token) => s.cells.inspect(request, token),
  );
}

/** About AROUND_CURSOR characters each way from the cursor, cut at whitespace so no word is split. */
function aroundCursor(document: vscode.TextDocument, cursor: vscode.Position): vscode.Range {
  const text = document.getText();
  const offset = document.offsetAt(cursor);
  let start = Math.max(0, offset - AROUND_CURSOR);
  if (start > 0) {
    const space = text.slice(start, offset).search(/\s/);
    start = space >= 0 ? start + space + 1 : offset;
  }
  let end = Math.min(text.length, offset + AROUND_CURSOR);
  if (end < text.length) {
    const space = text.slice(offset, end).search(/\s\S*$/);
    end = space >= 0 ? offset + space : end;
  }
  return new vscode.Range(document.positionAt(start), document.positionAt(end));
}
