/**
 * Loads a webview's page again when it never says it is ready. In VS Code for the web, and
 * now and then on the desktop, a webview restored after a window reload can fail to load
 * its script through the webview service worker: the page then stays a blank skeleton for
 * good. Setting its HTML again gives it a fresh frame, which loads. Kept free of the
 * `vscode` module so its timing is tested on its own.
 */

export interface PageWatchdogOptions {
  /** Sets the page's HTML (a fresh nonce each time, so VS Code really loads it again); `attempt` counts from 1. */
  load(attempt: number): void;
  /** A hidden webview does not load until shown, so its wait does not count as a failure. */
  isVisible(): boolean;
  /** Called once the page has been loaded `attempts` times without saying it is ready. */
  giveUp(): void;
  /** How long the first load may take; each later one gets twice as long. */
  firstWaitMs?: number;
  attempts?: number;
  timers?: Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'>;
}

export const FIRST_WAIT_MS = 8_000;
export const LOAD_ATTEMPTS = 3;

export class PageWatchdog {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loads = 0;
  private waitMs: number;
  private readonly attempts: number;
  private readonly timers: Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'>;

  constructor(private readonly options: PageWatchdogOptions) {
    this.waitMs = options.firstWaitMs ?? FIRST_WAIT_MS;
    this.attempts = options.attempts ?? LOAD_ATTEMPTS;
    this.timers = options.timers ?? globalThis;
  }

  /** Loads the page and starts waiting for it. */
  start(): void {
    this.stop();
    this.loads = 0;
    this.waitMs = this.options.firstWaitMs ?? FIRST_WAIT_MS;
    this.load();
  }

  /** The page said it is ready: nothing more to watch until the next `start`. */
  ready(): void {
    this.stop();
  }

  dispose(): void {
    this.stop();
  }

  private load(): void {
    this.loads += 1;
    this.options.load(this.loads);
    this.wait();
  }

  private wait(): void {
    this.timer = this.timers.setTimeout(() => this.timedOut(), this.waitMs);
  }

  private timedOut(): void {
    this.timer = undefined;
    if (!this.options.isVisible()) {
      this.wait();
      return;
    }
    if (this.loads >= this.attempts) {
      this.options.giveUp();
      return;
    }
    this.waitMs *= 2;
    this.load();
  }

  private stop(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
