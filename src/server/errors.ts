/**
 * How failures reach the person: a UserError's one sentence becomes the request's
 * ResponseError as is; anything else is a bug, reported as one general sentence while the
 * details go to the log (the client's SeqLab output channel).
 */
import { ErrorCodes, LSPErrorCodes, ResponseError, type RemoteConsole } from 'vscode-languageserver/node';
import { isUserError } from '../core/errors';

export type Log = Pick<RemoteConsole, 'error' | 'warn' | 'info' | 'log' | 'debug'>;

export function toResponseError(error: unknown, log: Log): ResponseError<void> {
  if (error instanceof ResponseError) return error;
  if (isUserError(error)) {
    log.info(error.message);
    return new ResponseError(LSPErrorCodes.RequestFailed, error.message);
  }
  log.error(`Internal error: ${(error as Error)?.stack ?? String(error)}`);
  return new ResponseError(ErrorCodes.InternalError, "SeqLab's engine hit an internal error; the SeqLab output has the details.");
}

/** Wraps a request handler so every failure leaves as a one-sentence ResponseError. */
export function guarded<P, R>(log: Log, handler: (params: P) => Promise<R> | R): (params: P) => Promise<R | ResponseError<void>> {
  return async (params: P) => {
    try {
      return await handler(params);
    } catch (error) {
      return toResponseError(error, log);
    }
  };
}
