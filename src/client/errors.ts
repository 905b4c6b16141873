/**
 * Turns whatever a command or request threw into one sentence for a person, and writes the
 * details (code, data, stack) to the log. The engine answers bad input with a one-sentence
 * message of its own; anything else is our fault and says where to look.
 */
import * as vscode from 'vscode';
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageclient/node';
import type { Log } from './log';

/** A problem the person can fix (no editor open, empty file, nothing to stop): a warning, not an error. */
export class UserFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserFacingError';
  }
}

export function isCancellation(error: unknown): boolean {
  return (
    error instanceof vscode.CancellationError ||
    (error instanceof ResponseError &&
      (error.code === LSPErrorCodes.RequestCancelled || error.code === LSPErrorCodes.ServerCancelled))
  );
}

const ENGINE_DOWN = 'The SeqLab engine is not running; run "SeqLab: Restart Engine" and try again.';
const UNEXPECTED = 'SeqLab hit an unexpected error; the details are in the SeqLab output.';

/** jsonrpc wraps an exception thrown in a request handler as "Request m failed with message: …". */
const WRAPPED = /^Request \S+ failed with message: ([\s\S]*)$/;

/** The one sentence to show for `error`; `unexpected` replaces the generic one for errors that are not ours to explain. */
export function sentenceFor(error: unknown, unexpected = UNEXPECTED): string {
  if (error instanceof UserFacingError) return error.message;
  if (error instanceof ResponseError) {
    if (error.code === ErrorCodes.ConnectionInactive || error.code === ErrorCodes.PendingResponseRejected) {
      return ENGINE_DOWN;
    }
    const message = WRAPPED.exec(error.message)?.[1] ?? error.message;
    return isOneSentence(message) ? message : unexpected;
  }
  return unexpected;
}

function isOneSentence(text: string): boolean {
  return text.length > 0 && text.length <= 300 && !text.includes('\n');
}

/**
 * Shows `error` as one sentence (a warning for things the person can fix, an error
 * otherwise) with a button to the log, and logs the details. Cancellations stay silent.
 */
export function reportError(log: Log, what: string, error: unknown, unexpected?: string): void {
  if (isCancellation(error)) {
    log.info(`${what}: cancelled`);
    return;
  }
  const sentence = sentenceFor(error, unexpected);
  // The engine answers bad input (too short a text, a run still training) with RequestFailed.
  const fixable =
    error instanceof UserFacingError || (error instanceof ResponseError && error.code === LSPErrorCodes.RequestFailed);
  if (fixable) {
    log.warn(`${what}: ${sentence}`);
    void vscode.window.showWarningMessage(sentence);
    return;
  }
  log.error(`${what} failed: ${details(error)}`);
  void vscode.window.showErrorMessage(sentence, 'Show Log').then((choice) => {
    if (choice) log.show(true);
  });
}

function details(error: unknown): string {
  if (error instanceof ResponseError) {
    const data = error.data === undefined ? '' : `\n${JSON.stringify(error.data, null, 2)}`;
    return `${error.message} (code ${error.code})${data}`;
  }
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}
