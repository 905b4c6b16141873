/**
 * SeqLab's engine process: a language server (LSP over IPC from the extension, or stdio
 * with --stdio). It keeps the open documents through text sync, answers the standard
 * `textDocument/inlineCompletion` request with the active model, and SeqLab's own
 * `seqlab/*` requests (src/protocol/lsp.ts). Training never runs in this process: each run
 * has a worker process (jobs.ts), so the engine stays free to answer while models train.
 */
import { fileURLToPath } from 'node:url';
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeResult,
  type InlineCompletionItem,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { UserError } from '../core/errors';
import { SEQLAB_VERSION } from '../core/version';
import type { InspectCellsParams } from '../protocol/cells';
import { Methods, type EngineSettings, type ExportFormat, type GenerateParams, type TrainParams } from '../protocol/lsp';
import type { SurprisalGuessesParams, SurprisalParams } from '../protocol/surprisal';
import type { InspectedText } from './cellInspector';
import { Engine } from './engine';
import { guarded, toResponseError } from './errors';
import { parseInitOptions, parseSettings } from './settings';
import type { TrainText } from './training';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const log = connection.console;
let engine: Engine | undefined;

// A bug in one handler must not end the engine (and with it every training run).
process.on('unhandledRejection', (reason) => log.error(`Unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`));
process.on('uncaughtException', (error) => log.error(`Uncaught exception: ${error.stack ?? String(error)}`));

/** Requests reach the engine only after initialize has answered, which creates it. */
function ready(): Engine {
  if (!engine) throw new UserError('The SeqLab engine has not finished starting yet.');
  return engine;
}

connection.onInitialize(async (params): Promise<InitializeResult> => {
  try {
    engine = await Engine.start(
      parseInitOptions(params.initializationOptions),
      {
        progress: (progress) => void connection.sendNotification(Methods.progress, progress),
        runsChanged: (runs) => void connection.sendNotification(Methods.runsChanged, runs),
        suggestionLatency: (latency) => void connection.sendNotification(Methods.suggestionLatency, latency),
      },
      log,
    );
  } catch (error) {
    throw toResponseError(error, log);
  }
  engine.openDocument = (uri) => documents.get(uri);
  return {
    capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental, inlineCompletionProvider: true },
    serverInfo: { name: 'SeqLab engine', version: SEQLAB_VERSION },
  };
});

// Told once the client listens: a window reload ends the runs that train, and a person
// must hear about it rather than find them "stopped" as if they had stopped them.
connection.onInitialized(() => {
  const runs = engine?.interruptedAtStart ?? [];
  if (runs.length > 0) void connection.sendNotification(Methods.runsInterrupted, { runs });
});

connection.onRequest(
  Methods.train,
  guarded(log, (params: TrainParams) => ready().train(params, trainText(params))),
);
connection.onRequest(
  Methods.resumeRun,
  guarded(log, (params: { runId: string }) => ready().resume(requireStrings(params, Methods.resumeRun, ['runId']).runId)),
);
connection.onRequest(
  Methods.stop,
  guarded(log, (params: { runId?: string } | undefined) => ready().stop(params?.runId)),
);
connection.onRequest(
  Methods.runs,
  guarded(log, () => ready().runs()),
);
connection.onRequest(
  Methods.history,
  guarded(log, (params: { runIds: string[] }) => ready().history(params?.runIds)),
);
connection.onRequest(
  Methods.setActiveModel,
  guarded(log, (params: { runId: string | null }) => ready().setActiveModel(params?.runId ?? null)),
);
connection.onRequest(
  Methods.generate,
  guarded(log, (params: GenerateParams) =>
    ready().generate(requireStrings(params, Methods.generate, ['runId', 'prompt'])),
  ),
);
connection.onRequest(
  Methods.exportRun,
  guarded(log, (params: { runId: string; target: string; format?: ExportFormat }) =>
    ready().exportRun(requireStrings(params, Methods.exportRun, ['runId', 'target'])),
  ),
);
connection.onRequest(
  Methods.importRun,
  guarded(log, (params: { file: string; tokenizer?: string }) => ready().importRun(requireStrings(params, Methods.importRun, ['file']))),
);
connection.onRequest(
  Methods.deleteRun,
  guarded(log, (params: { runId: string }) => ready().deleteRun(requireStrings(params, Methods.deleteRun, ['runId']).runId)),
);
connection.onRequest(
  Methods.surprisal,
  guarded(log, (params: SurprisalParams) => ready().lens.surprisal(params?.uri)),
);
connection.onRequest(
  Methods.surprisalGuesses,
  guarded(log, (params: SurprisalGuessesParams) => ready().lens.guesses(params)),
);
connection.onRequest(
  Methods.inspectCells,
  guarded(log, (params: InspectCellsParams) => ready().inspectCells(params, inspectedText(params))),
);
connection.onRequest(
  Methods.inspectMemory,
  guarded(log, (params: { runId: string }) => ready().inspectMemory(requireStrings(params, Methods.inspectMemory, ['runId']))),
);
connection.onNotification(Methods.settingsChanged, (settings: EngineSettings) => engine?.settingsChanged(parseSettings(settings)));

connection.languages.inlineCompletion.on(async (params, token): Promise<InlineCompletionItem[] | null> => {
  const document = documents.get(params.textDocument.uri);
  if (!engine || !document || token.isCancellationRequested) return null;
  const { position } = params;
  const textBefore = document.getText({ start: { line: 0, character: 0 }, end: position });
  try {
    const text = await engine.suggest(document.uri, textBefore, () => token.isCancellationRequested);
    // An empty range at the cursor: the suggestion is inserted, nothing typed is replaced.
    return text ? [{ insertText: text, range: { start: position, end: position } }] : null;
  } catch (error) {
    // Typing must never see an error: no suggestion this time, details in the log.
    log.error(`Inline completion failed: ${(error as Error).stack ?? String(error)}`);
    return null;
  }
});

documents.onDidClose((event) => engine?.closeDocument(event.document.uri));

connection.onShutdown(async () => {
  await engine?.shutdown();
});

/** A request's parameters with the named string fields, or one sentence naming what is missing. */
function requireStrings<T>(params: T, method: string, keys: (keyof T & string)[]): T {
  const missing = keys.filter((key) => typeof (params as Record<string, unknown> | undefined)?.[key] !== 'string');
  if (missing.length > 0) throw new UserError(`${method} needs ${missing.join(' and ')} (text), which the request did not give.`);
  return params;
}

/** The text a train request names: the document (or the selected range of it) from text sync. */
function trainText(params: TrainParams): TrainText {
  const document = documents.get(params?.uri);
  if (!document) {
    throw new UserError(`"${params?.corpusName ?? params?.uri}" is not open in the editor, so there is no text to train on.`);
  }
  const text = params.range ? document.getText(params.range) : document.getText();
  // A whole saved file is recorded as the source, so `seqlab eval` can find the text again.
  let sources: string[] = [];
  if (!params.range && document.uri.startsWith('file:')) {
    try {
      sources = [fileURLToPath(document.uri)];
    } catch {
      sources = [];
    }
  }
  return { text, sources };
}

/** The text an inspect request names: the whole document, for the words before the range, and the range's offsets. */
function inspectedText(params: InspectCellsParams): InspectedText {
  const document = documents.get(params?.uri);
  if (!document) throw new UserError('The document to inspect is not open in the editor.');
  if (!params.range) throw new UserError(`${Methods.inspectCells} needs the range to inspect, which the request did not give.`);
  const [spanStart, spanEnd] = [document.offsetAt(params.range.start), document.offsetAt(params.range.end)];
  return { text: document.getText(), spanStart: Math.min(spanStart, spanEnd), spanEnd: Math.max(spanStart, spanEnd), name: decodeURIComponent(document.uri.replace(/^.*\//, '')) };
}

documents.listen(connection);
connection.listen();
