/**
 * The client half of inline suggestions. The engine answers the standard
 * `textDocument/inlineCompletion` request; this middleware decides, before anything is
 * sent, whether the document may get suggestions at all (the on/off switch, the languages
 * and the file patterns are the person's settings, so they are enforced here), and times
 * each round trip for the status bar.
 */
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import type { Config, SuggestionConfig } from './config';

export function suggestionsAllowed(settings: SuggestionConfig, document: vscode.TextDocument): boolean {
  if (!settings.enabled) return false;
  if (settings.languages.length > 0 && !settings.languages.includes(document.languageId)) return false;
  if (settings.filePatterns.length > 0) {
    // languages.match applies VS Code's own glob semantics, the same as in files.exclude.
    return settings.filePatterns.some((pattern) => vscode.languages.match({ pattern }, document) > 0);
  }
  return true;
}

/** `onLatency` gets the milliseconds of each answered (not cancelled) request. */
export function suggestionsMiddleware(config: Config, onLatency: (milliseconds: number) => void): Middleware {
  return {
    async provideInlineCompletionItems(document, position, context, token, next) {
      if (!suggestionsAllowed(config.suggestions, document)) return undefined;
      const started = performance.now();
      const result = await next(document, position, context, token);
      if (!token.isCancellationRequested) onLatency(performance.now() - started);
      return result;
    },
  };
}
