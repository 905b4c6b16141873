// Proves the e2e harness against a throwaway extension: palette command and
// its notification, webviews (panel and view) found by title, and an inline
// suggestion shown as ghost text and accepted with Tab.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { waitUntil, withVSCode } from './harness';

const SAMPLE_EXTENSION = path.join(__dirname, 'fixtures', 'sample-extension');

test('harness drives a real VS Code: command, notification, webviews, ghost text', { timeout: 300_000 }, async (t) => {
  const options = { name: 'smoke', extensions: [SAMPLE_EXTENSION], files: { 'notes.txt': '' }, signal: t.signal };
  await withVSCode(options, async (vscode) => {
    await vscode.openFile('notes.txt');

    // Running the command also activates the extension, so its inline provider is registered before we type.
    await vscode.runCommand('Sample: Say Hello');
    await vscode.waitForNotification('Hello from the sample extension!');

    await vscode.runCommand('Sample: Show Panel');
    assert.match(await vscode.webviewText('Sample Panel'), /Hello from the sample panel/);
    await vscode.runCommand('Sample: Focus on Sample View View');
    assert.match(await vscode.webviewText('Sample View'), /Hello from the sample view/);
    await vscode.screenshot('smoke-webviews');

    await vscode.openFile('notes.txt');
    await vscode.typeInEditor('hello');
    // VS Code asks for inline suggestions as one types; on a loaded machine that request
    // once went unanswered here (this editor had just opened beside a webview). This test
    // proves that the harness sees and accepts ghost text, so it asks again as a person would.
    assert.equal(await vscode.waitForGhostText(undefined, { askAgainAfterMs: 10_000 }), ' world');
    // Escape dismisses it, and asking again (as a person would) brings it back. When the
    // harness had to ask again above, that request can still be answered after the key and
    // show the ghost once more (CI saw it stay); a person then presses Escape again.
    let escapes = 0;
    await waitUntil(
      'the ghost text dismissed',
      async () => {
        if ((await vscode.page.locator('[class*="ghost-text-decoration"]').count()) === 0) return true;
        if (escapes < 3) {
          escapes++;
          await vscode.pressKey('Escape');
        }
        return undefined;
      },
      { timeoutMs: 10_000, intervalMs: 1000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message} (Escape pressed ${escapes} times)`);
    });
    assert.equal(await vscode.waitForGhostText(undefined, { askAgainAfterMs: 500 }), ' world');
    await vscode.screenshot('smoke-ghost-text');
    await vscode.pressKey('Tab');
    await vscode.waitForEditorText('hello world');

    // The DOM says what is shown; the saved file says what the document holds.
    await vscode.pressKey('Control+S');
    const file = path.join(vscode.workspace, 'notes.txt');
    await waitUntil('notes.txt saved as "hello world"', () => fs.readFileSync(file, 'utf8') === 'hello world', {
      timeoutMs: 30_000,
    });
  });
});
