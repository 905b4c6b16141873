/**
 * End-to-end harness: runs extensions in a real VS Code (code-server 4.99.4 =
 * VS Code 1.99, installed by scripts/e2e/setup-code-server.sh) shown in
 * headless Chromium driven by playwright-core (DESIGN.md §7).
 *
 * API
 * ---
 *   withVSCode(options, async (vscode) => { ... })
 *       Starts a session, runs the body, and always closes the session; when the
 *       body throws it first saves `<name>-failure.png` and the VS Code logs
 *       into test-artifacts/. Prefer this over startVSCode in tests.
 *
 *   startVSCode(options): Promise<VSCodeSession>   (call session.close() yourself)
 *     options.name        label for artifacts and logs (default "vscode")
 *     options.extensions  extension folders, linked into the extensions dir as
 *                         publisher.name-version, or .vsix files, installed
 *                         with code-server --install-extension
 *     options.workspace   folder to open; default: a new temp folder that
 *                         is removed on close
 *     options.files       { "relative/path": "content" } written into the
 *                         workspace before VS Code starts
 *     options.settings    user settings, merged over the harness defaults
 *                         ({"workbench.startupEditor":"none",
 *                           "security.workspace.trust.enabled":false,
 *                           "editor.wordBasedSuggestions":"off", ...}: see
 *                         DEFAULT_SETTINGS)
 *     options.timeoutMs   budget of every wait (default 60 s, or the
 *                         SEQLAB_E2E_TIMEOUT_MS environment variable)
 *     options.signal      closes the session when aborted; pass node:test's
 *                         t.signal so that a test that times out does not
 *                         leave VS Code running (and the runner waiting)
 *
 *   VSCodeSession
 *     page, browser                   playwright-core Page and Browser
 *     workspace, userDataDir, extensionsDir, url
 *     waitForWorkbench()              workbench drawn and the folder open
 *     openFile(relativePath)          quick open (Ctrl+P); waits for the tab
 *                                     and a focused editor
 *     runCommand(title)               command palette (F1), ">title", then the
 *                                     row with exactly that label (clicked, see
 *                                     quickPick); title as listed there, with
 *                                     its category: "Sample: Say Hello"
 *     typeInEditor(text)              types into the active editor
 *     pressKey(key)                   playwright key name: "Tab", "Control+S"
 *     editorText()                    visible lines of the active editor,
 *                                     without ghost text
 *     waitForEditorText(expected)     until editorText() equals (string) or
 *                                     matches (RegExp)
 *     waitForGhostText(match?, opts?) until inline-suggestion ghost text shows;
 *                                     returns it ({askAgainAfterMs}: run
 *                                     Trigger Inline Suggestion each time it
 *                                     has not shown for that long)
 *     notifications()                 messages of the notification toasts and
 *                                     of the notification centre
 *     waitForNotification(match)      until one contains (string) or matches
 *                                     (RegExp); returns it
 *     statusBarItems()                non-empty texts of the status bar entries
 *     userSettings()                  the user settings.json as an object
 *     setUserSettings(settings)       replaces the user settings in the
 *                                     settings.json editor (pasted) and saves,
 *                                     as a person does (code-server does not see
 *                                     the file change when written behind its back)
 *     webviewFrame(title)             the inner frame (#active-frame) of the
 *                                     webview with that title, panel or view;
 *                                     look it up again after the webview reloads
 *     webviewText(title)              that webview's body text
 *     screenshot(name)                test-artifacts/<name>.png; returns the path
 *     saveLogs(name)                  copies VS Code's logs (extension host,
 *                                     output channels) to test-artifacts/<name>-logs
 *     close()                         closes Chromium, kills code-server's whole
 *                                     process tree, removes the temp folders;
 *                                     idempotent. If the test process exits or
 *                                     gets SIGINT/SIGTERM/SIGHUP first, a hook
 *                                     kills code-server and removes the folders
 *
 * Every wait polls DOM state until a deadline (no fixed sleeps) and fails with
 * a message saying what it waited for. Environment: CHROMIUM_PATH overrides the
 * browser (default: chromium found on PATH); SEQLAB_E2E_KEEP=1 keeps the temp
 * folders for debugging.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts');
const CODE_SERVER_ENTRY = path.join(
  REPO_ROOT, '.vscode-test', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js',
);

/** Settings that keep first-run UI (welcome page, trust dialog, tips) and chance pop-ups out of the way. */
const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'chat.commandCenter.enabled': false,
  'git.enabled': false,
  // Editor settings stay VS Code's own (word-based completions included), so that a test
  // sees the word list a person would; SeqLab's configurationDefaults keep it from
  // opening over the ghost text in plain text and Markdown.
};

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

export interface StartOptions {
  name?: string;
  extensions?: string[];
  workspace?: string;
  files?: Record<string, string>;
  settings?: Record<string, unknown>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

// ---------------------------------------------------------------- waiting

export interface WaitOptions {
  timeoutMs: number;
  /** Pause between probes (default 100 ms). */
  intervalMs?: number;
  /** Stops the wait at once, e.g. when the session closes. */
  signal?: AbortSignal;
}

/**
 * Polls `probe` until it returns something other than undefined/false; throws
 * after `timeoutMs`, or as soon as `signal` aborts (errors of a probe only
 * mean "not yet", so without the signal a closed session would be polled
 * until the deadline).
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs, intervalMs = 100, signal }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (signal?.aborted) throw new Error(`Stopped waiting for ${what}: the session was closed`);
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      // Frames detach and elements re-render while VS Code works; try again.
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message.split('\n')[0]})` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A pattern matching exactly `text`, for Playwright's hasText (which otherwise matches substrings). */
function exactText(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

function matches(text: string, expected: string | RegExp): boolean {
  return typeof expected === 'string' ? text.includes(expected) : expected.test(text);
}

// ---------------------------------------------------------------- processes

/** All descendants of `pid`, from `ps`, so that processes that left the group die too. */
function descendants(pid: number): number[] {
  const ps = spawnSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of (ps.stdout ?? '').split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (!child || parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills a process started with `detached: true` (its own group), the group and
 * every descendant: SIGTERM first so code-server can stop its extension hosts,
 * SIGKILL for whatever is left after a few seconds.
 */
async function killTree(pid: number, graceMs = 5000): Promise<void> {
  const tree = [pid, ...descendants(pid)];
  signal(-pid, 'SIGTERM');
  tree.forEach((p) => signal(p, 'SIGTERM'));
  const deadline = Date.now() + graceMs;
  while (tree.some(isAlive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  signal(-pid, 'SIGKILL');
  tree.forEach((p) => signal(p, 'SIGKILL'));
  liveServers.delete(pid);
}

/** Process groups of the code-servers still running and temp folders still there, for the hooks below. */
const liveServers = new Set<number>();
const liveTempDirs = new Set<string>();
let hooksInstalled = false;

/**
 * Last resort when the test process ends without close() (a test that forgot
 * it, Ctrl+C, the runner's SIGTERM): SIGKILL the code-server groups and remove
 * the temp folders, both synchronous and so possible inside an exit handler.
 * Playwright has its own hooks for Chromium.
 */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = (): void => {
    liveServers.forEach((pid) => signal(-pid, 'SIGKILL'));
    liveTempDirs.forEach(removeTempDir);
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll();
      // Listening replaced Node's default of dying, and Playwright's own SIGTERM
      // handler only closes browsers: die as Node would (its exit hook then kills Chromium).
      process.exit(128 + (os.constants.signals[sig] ?? 0));
    });
  }
}

function removeTempDir(dir: string): void {
  if (process.env.SEQLAB_E2E_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
  liveTempDirs.delete(dir);
}

// ---------------------------------------------------------------- setup steps

function findChromium(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  throw new Error('Chromium not found: run scripts/e2e/install-system-deps.sh or set CHROMIUM_PATH');
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
}

/** VS Code finds a user extension by its folder name: lower-case publisher.name-version. */
function linkExtension(folder: string, extensionsDir: string): void {
  const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')) as {
    publisher: string; name: string; version: string;
  };
  const id = `${manifest.publisher}.${manifest.name}`.toLowerCase();
  fs.symlinkSync(path.resolve(folder), path.join(extensionsDir, `${id}-${manifest.version}`), 'dir');
}

function installVsix(vsix: string, dirs: Folders): void {
  const result = spawnSync(process.execPath, [
    CODE_SERVER_ENTRY, '--config', dirs.configFile, '--user-data-dir', dirs.userDataDir,
    '--extensions-dir', dirs.extensionsDir, '--install-extension', path.resolve(vsix),
  ], { encoding: 'utf8', env: childEnv(dirs.root), timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`Installing ${vsix} failed:\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * Environment of code-server and Chromium: without the parent's VSCODE_*
 * variables (set in a VS Code terminal, they would point code-server at the
 * wrong IPC), and with XDG folders in the temp root so that neither writes
 * caches, crash reports or device ids into the home folder.
 */
function childEnv(root: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VSCODE_')));
  return { ...env, XDG_CACHE_HOME: path.join(root, 'cache'), XDG_CONFIG_HOME: path.join(root, 'config') };
}

/**
 * Starts code-server on a port that the OS picks (port 0, no race with other
 * tests) and resolves with the URL it prints once it listens.
 */
function startCodeServer(
  args: string[], env: NodeJS.ProcessEnv, logFile: string, timeoutMs: number,
): Promise<{ child: ChildProcess; url: string }> {
  const log = fs.createWriteStream(logFile);
  const child = spawn(process.execPath, [CODE_SERVER_ENTRY, ...args], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'], env,
  });
  if (child.pid) liveServers.add(child.pid);
  child.on('exit', () => log.end());
  return new Promise((resolve, reject) => {
    let output = '';
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`code-server did not listen within ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.pid) void killTree(child.pid);
      reject(new Error(`${error.message}\n--- code-server output ---\n${output}`));
    }
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      if (settled) return;
      output += chunk.toString();
      const listening = /HTTP server listening on (http:\/\/\S+?)\/?\s/.exec(output);
      if (listening?.[1]) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, url: listening[1] });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`code-server exited early with code ${code}`)));
    // Let the test process exit even if a test forgets close(); the exit hook then kills code-server.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  });
}

// ---------------------------------------------------------------- session

const EDITOR = '.editor-group-container.active .monaco-editor';
const QUICK_INPUT = '.quick-input-widget';
/** How long one opening of a quick input waits for its row before reopening. */
const QUICK_INPUT_ATTEMPT_MS = 5000;

/** Minimal shape of the DOM nodes read in editorText (the project compiles without lib "dom"). */
interface ViewLineNode {
  style: { top: string };
  cloneNode(deep: boolean): ViewLineNode;
  querySelectorAll(selector: string): ArrayLike<{ remove(): void }>;
  textContent: string | null;
}

/** The part of the page's globals that setUserSettings uses. */
interface PageGlobals {
  navigator: { clipboard: { writeText(text: string): Promise<void> } };
}

export class VSCodeSession {
  /** Aborted by close(), so that every pending wait of this session stops at once. */
  private readonly closing = new AbortController();
  private closed: Promise<void> | undefined;
  /** Errors and warnings the webviews printed, and uncaught page errors: what a blank view leaves behind. */
  readonly webviewConsole: string[] = [];

  constructor(
    readonly name: string,
    readonly page: Page,
    readonly browser: Browser,
    private readonly server: ChildProcess,
    readonly url: string,
    readonly workspace: string,
    readonly userDataDir: string,
    readonly extensionsDir: string,
    private readonly tempDirs: string[],
    readonly timeoutMs: number,
  ) {
    page.on('console', (message) => {
      const url = message.location().url;
      if ((message.type() === 'error' || message.type() === 'warning') && (url.includes('webview') || message.text().includes('SeqLab'))) {
        this.webviewConsole.push(`${message.type()}: ${message.text()} (${url}:${message.location().lineNumber})`);
      }
    });
    page.on('pageerror', (error) => this.webviewConsole.push(`uncaught: ${error.message}`));
  }

  private until<T>(what: string, probe: () => Promise<T | undefined | false>, intervalMs?: number): Promise<T> {
    return waitUntil(what, probe, { timeoutMs: this.timeoutMs, intervalMs, signal: this.closing.signal });
  }

  /** Waits until the workbench is drawn and the folder is open. */
  async waitForWorkbench(): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: this.timeoutMs });
    await this.page.locator('.part.statusbar').waitFor({ state: 'visible', timeout: this.timeoutMs });
    const folder = path.basename(this.workspace).toUpperCase();
    // The window title ("folder - code-server") or the explorer names the folder once the workspace is resolved.
    await this.until(`the workbench to open folder ${folder}`, async () => {
      if ((await this.page.title()).toUpperCase().includes(folder)) return true;
      const titles = await this.page.locator('.explorer-folders-view, .pane-header .title').allInnerTexts();
      return titles.some((t) => t.toUpperCase().includes(folder));
    });
  }

  async openFile(relativePath: string): Promise<void> {
    const base = path.basename(relativePath);
    await this.quickPick('Control+P', relativePath, base, `quick open (Ctrl+P) to list ${relativePath}`);
    await this.until(`an editor tab for ${base}`, async () => {
      const label = await this.page.locator('.editor-group-container.active .tab.active').getAttribute('aria-label');
      return label?.startsWith(base);
    });
    await this.page.locator(`${EDITOR}.focused`).waitFor({ state: 'visible', timeout: this.timeoutMs });
  }

  async runCommand(title: string): Promise<void> {
    await this.quickPick('F1', `>${title}`, title, `the command palette (F1) to list "${title}"`);
  }

  async typeInEditor(text: string): Promise<void> {
    await this.focusEditor();
    // A small delay per key lets VS Code's input handling see separate keystrokes, as from a person.
    await this.page.keyboard.type(text, { delay: 30 });
  }

  async pressKey(key: string): Promise<void> {
    await this.page.keyboard.press(key);
  }

  /** Text of the active editor's rendered lines, ghost text removed, non-breaking spaces as spaces. */
  async editorText(): Promise<string> {
    const lines = await this.page.locator(`${EDITOR} .view-lines .view-line`).evaluateAll((nodes: ViewLineNode[]) =>
      nodes
        .map((node) => {
          const copy = node.cloneNode(true);
          const ghosts = copy.querySelectorAll('[class*="ghost-text"]');
          for (let i = 0; i < ghosts.length; i++) ghosts[i]?.remove();
          return { top: parseFloat(node.style.top) || 0, text: copy.textContent ?? '' };
        })
        // Monaco positions lines absolutely and may reuse DOM nodes out of order.
        .sort((a, b) => a.top - b.top)
        .map((line) => line.text),
    );
    return lines.join('\n').replace(/\u00a0/g, ' ');
  }

  async waitForEditorText(expected: string | RegExp): Promise<string> {
    return this.until(`the editor text to be ${String(expected)}`, async () => {
      const text = await this.editorText();
      return (typeof expected === 'string' ? text === expected : expected.test(text)) ? text : undefined;
    });
  }

  /**
   * With `askAgainAfterMs`, runs Trigger Inline Suggestion from the palette each time that
   * long passes without the ghost text, as a person would: for tests of the harness itself,
   * not of an extension's own triggering.
   */
  async waitForGhostText(expected?: string | RegExp, { askAgainAfterMs }: { askAgainAfterMs?: number } = {}): Promise<string> {
    const ghost = this.page.locator(`${EDITOR} [class*="ghost-text-decoration"]`);
    const what = expected === undefined ? 'ghost text' : `ghost text ${String(expected)}`;
    let askedAt = Date.now();
    return this.until(what, async () => {
      const text = (await ghost.allInnerTexts()).join('').replace(/\u00a0/g, ' ');
      if (text && (!expected || matches(text, expected))) return text;
      if (askAgainAfterMs !== undefined && Date.now() - askedAt > askAgainAfterMs) {
        askedAt = Date.now();
        await this.runCommand('Trigger Inline Suggestion');
      }
      return undefined;
    });
  }

  async notifications(): Promise<string[]> {
    return this.page
      .locator('.notifications-toasts .notification-list-item-message, .notifications-center .notification-list-item-message')
      .allInnerTexts();
  }

  async waitForNotification(expected: string | RegExp): Promise<string> {
    return this.until(`a notification ${String(expected)}`, async () => {
      return (await this.notifications()).find((message) => matches(message, expected));
    });
  }

  /** Non-empty texts of the status bar entries, left to right. */
  async statusBarItems(): Promise<string[]> {
    const texts = await this.page.locator('.part.statusbar .statusbar-item').allInnerTexts();
    return texts.map((text) => text.trim()).filter((text) => text.length > 0);
  }

  userSettings(): Record<string, unknown> {
    return JSON.parse(fs.readFileSync(this.userSettingsFile, 'utf8'));
  }

  async setUserSettings(settings: Record<string, unknown>): Promise<void> {
    await this.runCommand('Preferences: Open User Settings (JSON)');
    await this.until('the settings.json editor', async () => {
      const label = await this.page.locator('.editor-group-container.active .tab.active').getAttribute('aria-label');
      return label?.startsWith('settings.json');
    });
    await this.page.locator(`${EDITOR}.focused`).waitFor({ state: 'visible', timeout: this.timeoutMs });
    // Pasted: typed (even as one input event) the JSON editor auto-closes brackets and quotes.
    const text = JSON.stringify(settings);
    await this.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(this.url).origin });
    // Runs in the page; the tests are compiled without the DOM's types.
    await this.page.evaluate((value) => (globalThis as unknown as PageGlobals).navigator.clipboard.writeText(value), text);
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.press('Control+V');
    await this.page.keyboard.press('Control+S');
    await this.until('settings.json saved with the new settings', async () => {
      try {
        return isDeepStrictEqual(this.userSettings(), JSON.parse(text));
      } catch {
        return false; // half written
      }
    });
    await this.runCommand('View: Close Editor');
  }

  private get userSettingsFile(): string {
    return path.join(this.userDataDir, 'User', 'settings.json');
  }

  /**
   * A webview is an iframe.webview whose document holds the extension's page
   * in an inner iframe#active-frame; the inner one carries the title.
   */
  async webviewFrame(title: string): Promise<Frame> {
    return this.until(`a webview titled "${title}"`, async () => {
      const matching: Frame[] = [];
      for (const frame of this.page.frames()) {
        if (frame.isDetached() || !frame.parentFrame()) continue;
        const element = await frame.frameElement();
        if ((await element.getAttribute('id')) === 'active-frame' && (await element.getAttribute('title')) === title) matching.push(frame);
      }
      // A webview being replaced (a view restored after a reload) can leave a hidden frame
      // of the same title for a moment: the one on screen is the one a person sees.
      const shown = await asyncFind(matching, async (frame) => (await frame.parentFrame()?.frameElement())?.isVisible() ?? false);
      const frame = shown ?? matching[0];
      if (frame) await frame.waitForLoadState('domcontentloaded');
      return frame;
    }, 250);
  }

  async webviewText(title: string): Promise<string> {
    const frame = await this.webviewFrame(title);
    return frame.locator('body').innerText({ timeout: this.timeoutMs });
  }

  async screenshot(name: string): Promise<string> {
    const file = path.join(ARTIFACTS_DIR, `${name}.png`);
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await this.page.screenshot({ path: file, timeout: this.timeoutMs });
    return file;
  }

  saveLogs(name: string): string {
    const target = path.join(ARTIFACTS_DIR, `${name}-logs`);
    const logs = path.join(this.userDataDir, 'logs');
    fs.rmSync(target, { recursive: true, force: true });
    if (fs.existsSync(logs)) fs.cpSync(logs, target, { recursive: true, dereference: true });
    return target;
  }

  /** Idempotent: a second call (abort signal, then withVSCode's finally) waits for the first. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing.abort();
    // browser.close can hang when the page is wedged; do not let it block the kill.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.browser.close().catch(() => undefined),
      new Promise((resolve) => { timer = setTimeout(resolve, 10_000); }),
    ]);
    clearTimeout(timer);
    if (this.server.pid) await killTree(this.server.pid);
    for (const dir of this.tempDirs) removeTempDir(dir);
  }

  /**
   * Opens a quick input with `key`, types `query` and clicks the row labelled
   * exactly `label`. A click rather than Enter: the list re-renders as results
   * arrive (recently opened, then file search), and Playwright re-finds the
   * row by its label at the moment of the click, where Enter would take
   * whichever row happens to be focused. The palette lists the commands known
   * when it opens, so a command of an extension that is still being scanned
   * only shows after reopening: each attempt gets a few seconds, then the quick
   * input is closed and opened again until the session's timeout.
   */
  private async quickPick(key: string, query: string, label: string, what: string): Promise<void> {
    const widget = this.page.locator(QUICK_INPUT);
    const attempt = { timeout: QUICK_INPUT_ATTEMPT_MS };
    const row = widget
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exactText(label) }) })
      .first();
    await this.until(what, async () => {
      if (await widget.isVisible()) await this.page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden', ...attempt });
      await this.page.keyboard.press(key);
      const input = widget.locator('.quick-input-box input');
      await input.waitFor({ state: 'visible', ...attempt });
      // An attempt's timeout here too: a fill that hangs (the input re-rendered under it)
      // then makes a new attempt instead of spending the whole session's timeout.
      await input.fill(query, attempt);
      await row.click(attempt);
      // Chosen once the palette closes, or once the next quick pick of a command that asks
      // questions replaces it (with no time hidden in between on a busy machine): trying
      // again then would press Escape on that question and run the command twice.
      await waitUntil(`${what}: the choice to be taken`, async () => !(await widget.isVisible()) || (await input.inputValue()) !== query, {
        timeoutMs: QUICK_INPUT_ATTEMPT_MS,
        intervalMs: 50,
      });
      return true;
    }, 0);
  }

  /** Focuses the editor's input element without clicking, so the cursor stays where it is. */
  private async focusEditor(): Promise<void> {
    if ((await this.page.locator(`${EDITOR}.focused`).count()) > 0) return;
    await this.page.locator(`${EDITOR} textarea.inputarea, ${EDITOR} .native-edit-context`).first().focus();
    await this.page.locator(`${EDITOR}.focused`).waitFor({ state: 'visible', timeout: this.timeoutMs });
  }
}

// ---------------------------------------------------------------- entry points

interface Folders {
  root: string;
  userDataDir: string;
  extensionsDir: string;
  workspace: string;
  configFile: string;
}

/** One temp root per session holds everything it writes, except a workspace the caller passed. */
function prepareFolders(options: StartOptions): Folders {
  if (!fs.existsSync(CODE_SERVER_ENTRY)) {
    throw new Error('code-server is not installed: run bash scripts/e2e/setup-code-server.sh');
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-e2e-'));
  liveTempDirs.add(root);
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  const workspace = options.workspace ? path.resolve(options.workspace) : path.join(root, 'workspace');
  const configFile = path.join(root, 'config.yaml');
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  // Without --config, code-server writes a config with a password into ~/.config.
  fs.writeFileSync(configFile, 'auth: none\ncert: false\n');
  writeJson(path.join(userDataDir, 'User', 'settings.json'), { ...DEFAULT_SETTINGS, ...options.settings });
  for (const [relative, content] of Object.entries(options.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(workspace, relative)), { recursive: true });
    fs.writeFileSync(path.join(workspace, relative), content);
  }
  return { root, userDataDir, extensionsDir, workspace, configFile };
}

export async function startVSCode(options: StartOptions = {}): Promise<VSCodeSession> {
  const name = options.name ?? 'vscode';
  const timeoutMs = options.timeoutMs ?? (Number(process.env.SEQLAB_E2E_TIMEOUT_MS) || 60_000);
  const dirs = prepareFolders(options);
  installExitHooks();
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let session: VSCodeSession;
  try {
    for (const extension of options.extensions ?? []) {
      if (extension.endsWith('.vsix')) installVsix(extension, dirs);
      else linkExtension(extension, dirs.extensionsDir);
    }
    const started = await startCodeServer([
      '--config', dirs.configFile, '--auth', 'none', '--bind-addr', '127.0.0.1:0',
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--disable-getting-started-override', '--ignore-last-opened',
      '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir,
    ], childEnv(dirs.root), path.join(ARTIFACTS_DIR, `${name}-code-server.log`), timeoutMs);
    server = started.child;
    browser = await chromium.launch({
      executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS, env: childEnv(dirs.root), timeout: timeoutMs,
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(timeoutMs);
    session = new VSCodeSession(name, page, browser, server, started.url, dirs.workspace, dirs.userDataDir,
      dirs.extensionsDir, [dirs.root], timeoutMs);
  } catch (error) {
    await browser?.close().catch(() => undefined);
    if (server?.pid) await killTree(server.pid);
    removeTempDir(dirs.root);
    throw error;
  }
  try {
    // A test that timed out while VS Code was starting has aborted already; no event will come.
    if (options.signal?.aborted) throw new Error('Aborted while VS Code was starting');
    options.signal?.addEventListener('abort', () => void session.close(), { once: true });
    await session.page.goto(`${session.url}/?folder=${encodeURIComponent(dirs.workspace)}`, { timeout: timeoutMs });
    await session.waitForWorkbench();
    return session;
  } catch (error) {
    await session.screenshot(`${name}-startup-failure`).catch(() => undefined);
    try {
      session.saveLogs(`${name}-startup-failure`);
    } finally {
      await session.close();
    }
    throw error;
  }
}

/** Runs `body` in a fresh session; on failure saves a screenshot and the logs; always closes. */
export async function withVSCode<T>(options: StartOptions, body: (vscode: VSCodeSession) => Promise<T>): Promise<T> {
  const session = await startVSCode(options);
  try {
    return await body(session);
  } catch (error) {
    await session.screenshot(`${session.name}-failure`).catch(() => undefined);
    try {
      session.saveLogs(`${session.name}-failure`);
    } catch {
      // An aborted session may already have removed its folders.
    }
    // What the webviews printed goes with the error, so a CI log shows it.
    if (error instanceof Error && session.webviewConsole.length > 0) {
      error.message += `\nWebview console (last ${Math.min(20, session.webviewConsole.length)}):\n${session.webviewConsole.slice(-20).join('\n')}`;
    }
    throw error;
  } finally {
    await session.close();
  }
}

async function asyncFind<T>(items: readonly T[], test: (item: T) => Promise<boolean>): Promise<T | undefined> {
  for (const item of items) if (await test(item).catch(() => false)) return item;
  return undefined;
}
