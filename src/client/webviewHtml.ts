/**
 * The HTML shell and options shared by the dashboard and the Models view: a strict
 * Content-Security-Policy (only our nonce'd script runs, styles and images only from the
 * extension), and resource roots limited to media/ and dist/webviews/. The pages build
 * their content from typed messages; nothing the engine sends becomes HTML here.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

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

/** Gives a panel SeqLab's icon, options and page: a new panel, or one the serializer hands back after a reload. */
export function loadPanelPage(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, page: Page): void {
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'seqlab.svg');
  panel.webview.options = webviewOptions(extensionUri);
  panel.webview.html = renderHtml(panel.webview, extensionUri, page);
}
