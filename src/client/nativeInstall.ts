/**
 * "Install Native TensorFlow": installs @tensorflow/tfjs-node with npm into the extension's
 * storage, where the engine looks for it (seqlab.nativeTensorflow.folder overrides), then
 * restarts the engine so training can use it. The package is not shipped with the
 * extension: its install script downloads TensorFlow for the machine (~100 MB), which
 * needs the internet and npm on the PATH.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { UserFacingError } from './errors';
import type { Services } from './services';

/** The tfjs-node release that matches the TF.js the engine bundles (package.json's optional dependency). */
function tfjsNodeVersion(context: vscode.ExtensionContext): string {
  const packageJson = context.extension.packageJSON as { optionalDependencies?: Record<string, string> };
  return (packageJson.optionalDependencies?.['@tensorflow/tfjs-node'] ?? '^4.22.0').replace(/^[\^~]/, '');
}

export async function installNativeTensorflow(s: Services): Promise<void> {
  const folder = s.engine.nativeFolder;
  const spec = `@tensorflow/tfjs-node@${tfjsNodeVersion(s.context)}`;
  await fs.mkdir(folder, { recursive: true });
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Installing ${spec} (native TensorFlow)`, cancellable: true },
    (progress, token) => {
      progress.report({ message: `npm install in ${folder}` });
      return runNpm(['install', '--no-audit', '--no-fund', '--no-save', '--prefix', folder, spec], folder, token, (line) => s.log.info(`npm: ${line}`));
    },
  );
  if (result.cancelled) return;
  if (result.code !== 0) {
    throw new UserFacingError(
      `npm could not install ${spec} (${result.lastLine || `exit code ${result.code}`}); training stays on WebAssembly. ` +
        'Its install downloads TensorFlow from the internet; the README says how to build it from the tensorflow-cpu Python wheel instead.',
    );
  }
  await s.engine.restart();
  void vscode.window.showInformationMessage(
    `Native TensorFlow is installed in ${folder}. New runs measure it against WebAssembly and train on the faster (with seqlab.backend "auto").`,
  );
}

interface NpmResult {
  code: number | null;
  cancelled: boolean;
  /** The last line npm wrote, which usually says what went wrong. */
  lastLine: string;
}

function runNpm(args: string[], cwd: string, token: vscode.CancellationToken, onLine: (line: string) => void): Promise<NpmResult> {
  return new Promise((resolve) => {
    const npm = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, shell: process.platform === 'win32' });
    let lastLine = '';
    const read = (chunk: Buffer) => {
      for (const line of chunk.toString().split(/\r?\n/).map((l) => l.trim()).filter(Boolean)) {
        lastLine = line;
        onLine(line);
      }
    };
    npm.stdout.on('data', read);
    npm.stderr.on('data', read);
    const cancel = token.onCancellationRequested(() => npm.kill());
    npm.on('error', (error) => {
      cancel.dispose();
      resolve({ code: -1, cancelled: false, lastLine: `npm did not start: ${error.message}` });
    });
    npm.on('close', (code) => {
      cancel.dispose();
      resolve({ code, cancelled: token.isCancellationRequested, lastLine });
    });
  });
}
