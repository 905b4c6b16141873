/**
 * Train Model and Compare: find the text (the selection, or the whole active document),
 * ask for the cell and size, start the runs in the engine, show them in the dashboard and
 * follow them in a notification.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cellName } from '../protocol/format';
import { Methods, type TrainParams } from '../protocol/lsp';
import { CELL_TYPES, type CellType, type TrainConfig } from '../protocol/types';
import { UserFacingError } from './errors';
import { pickCell, pickSize } from './pickers';
import type { Services } from './services';
import { trackTraining } from './trainingProgress';

/** Only these documents reach the engine through text sync (see the client's documentSelector). */
const SYNCED_SCHEMES = ['file', 'untitled'];

interface Source {
  document: vscode.TextDocument;
  range?: vscode.Range;
  corpusName: string;
}

/** The text to train on; `target` is the document a context menu was opened on, if any. */
function currentSource(target: unknown): Source {
  const editor =
    target instanceof vscode.Uri
      ? vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === target.toString())
      : vscode.window.activeTextEditor;
  if (!editor) throw new UserFacingError('Open a text file first: SeqLab trains on the text in the active editor.');
  const { document, selection } = editor;
  const name = path.basename(document.fileName);
  if (!SYNCED_SCHEMES.includes(document.uri.scheme)) {
    throw new UserFacingError(`SeqLab trains on files and untitled editors only, and ${name} is neither.`);
  }
  const range = selection.isEmpty ? undefined : new vscode.Range(selection.start, selection.end);
  if (document.getText(range).trim().length === 0) {
    throw new UserFacingError(
      range
        ? 'The selection holds only blank space; select some text, or nothing to train on the whole file.'
        : `${name} is empty; SeqLab needs some text to train on.`,
    );
  }
  return { document, range, corpusName: range ? `${name} (selection)` : name };
}

export async function trainModel(s: Services, target?: unknown): Promise<void> {
  const source = currentSource(target);
  const settings = s.config.trainConfig(source.document.uri);
  const cell = await pickCell(settings.cell);
  if (!cell) return;
  const size = await pickSize('Train Model', settings);
  if (!size) return;
  await start(s, source, [cell], { ...settings, ...size, cell }, `Training ${cellName(cell)} on ${source.corpusName}`);
}

export async function compareModels(s: Services, target?: unknown): Promise<void> {
  const source = currentSource(target);
  const settings = s.config.trainConfig(source.document.uri);
  const size = await pickSize('Compare RNN, GRU and LSTM', settings);
  if (!size) return;
  await start(s, source, [...CELL_TYPES], { ...settings, ...size }, `Comparing RNN, GRU and LSTM on ${source.corpusName}`);
}

async function start(s: Services, source: Source, cells: CellType[], config: TrainConfig, title: string): Promise<void> {
  const params: TrainParams = {
    uri: source.document.uri.toString(),
    range: source.range && {
      start: { line: source.range.start.line, character: source.range.start.character },
      end: { line: source.range.end.line, character: source.range.end.character },
    },
    corpusName: source.corpusName,
    cells,
    config,
  };
  s.log.info(`${title}: ${params.uri}${source.range ? ' (selection)' : ''}, config ${JSON.stringify(config)}`);
  const { runIds } = await s.engine.request(Methods.train, params);
  // The reply can overtake the runsChanged notification; read the registry so the new runs are known.
  s.runs.update(await s.engine.request(Methods.runs, {}));
  s.selection.set(runIds);
  s.dashboard.show();
  // Not awaited: the command is done once training has started; the notification lives on.
  trackTraining(s, runIds, title).catch((error) => s.log.error(`Following ${runIds.join(', ')} failed: ${String(error)}`));
}
