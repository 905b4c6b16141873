/**
 * The "SeqLab" output channel: details for whoever investigates (stack traces, engine
 * messages, request data), while people see one sentence in a notification. The language
 * client writes the engine's own log lines to the same channel, so one place has everything.
 */
import * as vscode from 'vscode';

export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel('SeqLab', { log: true });
}
