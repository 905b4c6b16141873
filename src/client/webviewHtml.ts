/**
 * The HTML shell and options shared by every SeqLab webview: a strict
 * Content-Security-Policy (only our nonce'd script runs, styles and images only from the
 * extension), and resource roots limited to media/ and dist/webviews/. The pages build
 * their content from typed messages; nothing the engine sends becomes HTML here.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Log } from './log';
import { PageWatchdog } from './pageWatchdog';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'dist', 'webviews')],
  };
}

export interface Page {
  title: string;
  /** Bundle name in dist/webviews, without ".js". */
  script: string;
  /** Stylesheets in media/. */
  styles: string[];
  /** Static markup written by us; dynamic parts are filled in by the script. */
  body: string;
}

export function renderHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: Page): string {
  const nonce = randomBytes(16).toString('base64url');
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  const media = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', file));
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webviews', `${page.script}.js`));
  const links = page.styles.map((file) => `<link rel="stylesheet" href="${media(file)}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${csp}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${links}
    <title>${page.title}</title>
  </head>
  <body>
    ${page.body}
    <script nonce="${nonce}" src="${script}"></script>
  </body>
</html>`;
}

/**
 * Gives a panel SeqLab's icon, options and page: a new panel, or one the serializer hands
 * back after a reload. Dispose the result with the panel.
 */
export function loadPanelPage(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, page: Page, log: Log): vscode.Disposable {
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'seqlab.svg');
  panel.webview.options = webviewOptions(extensionUri);
  return loadWatchedPage(panel.webview, extensionUri, page, () => panel.visible, log);
}

/**
 * Sets a webview's page and sets it again if the page never says "ready" (see
 * PageWatchdog): every SeqLab page posts `{ type: 'ready' }` once its script runs.
 */
export function loadWatchedPage(webview: vscode.Webview, extensionUri: vscode.Uri, page: Page, isVisible: () => boolean, log: Log): vscode.Disposable {
  const watchdog = new PageWatchdog({
    load: (attempt) => {
      if (attempt > 1) log.warn(`The ${page.title} page did not say it was ready; loading it again (attempt ${attempt}).`);
      webview.html = renderHtml(webview, extensionUri, page);
    },
    isVisible,
    giveUp: () => {
      const sentence = `The ${page.title} page did not load; run "Developer: Reload Webviews" to try again.`;
      log.error(sentence);
      void vscode.window.showWarningMessage(sentence);
    },
  });
  const listener = webview.onDidReceiveMessage((message: unknown) => {
    if (isReadyMessage(message)) watchdog.ready();
  });
  watchdog.start();
  return vscode.Disposable.from(listener, watchdog);
}

function isReadyMessage(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready';
}
