import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { PageWatchdog } from '../../src/client/pageWatchdog';

/** A watchdog on mocked timers that records what it did, and when. */
function watched(options: { visible?: () => boolean } = {}) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const events: string[] = [];
  const watchdog = new PageWatchdog({
    load: (attempt) => events.push(`load ${attempt} at ${Date.now()}`),
    isVisible: options.visible ?? (() => true),
    giveUp: () => events.push(`give up at ${Date.now()}`),
    firstWaitMs: 1000,
    attempts: 3,
  });
  // In steps, so each timer sees the clock at its own time and timers set by timers fire too.
  const tick = (ms: number) => {
    for (let step = 0; step < ms; step += 100) mock.timers.tick(Math.min(100, ms - step));
  };
  return { watchdog, events, tick };
}

describe('PageWatchdog: a webview page that never says it is ready is loaded again', () => {
  afterEach(() => mock.timers.reset());

  it('loads once and no more when the page says it is ready in time', () => {
    const { watchdog, events, tick} = watched();
    watchdog.start();
    tick(999);
    watchdog.ready();
    tick(60_000);
    assert.deepEqual(events, ['load 1 at 0']);
  });

  it('loads again after 1, 2 and 4 waits, then gives up once', () => {
    const { watchdog, events, tick} = watched();
    watchdog.start();
    tick(60_000);
    assert.deepEqual(events, ['load 1 at 0', 'load 2 at 1000', 'load 3 at 3000', 'give up at 7000']);
  });

  it('stops at the second load when that one says it is ready', () => {
    const { watchdog, events, tick} = watched();
    watchdog.start();
    tick(1500);
    watchdog.ready();
    tick(60_000);
    assert.deepEqual(events, ['load 1 at 0', 'load 2 at 1000']);
  });

  it('does not count the time a hidden page waits to be shown', () => {
    let visible = false;
    const { watchdog, events, tick} = watched({ visible: () => visible });
    watchdog.start();
    tick(10_000);
    assert.deepEqual(events, ['load 1 at 0'], 'a hidden page is not loaded again');
    visible = true;
    tick(1000);
    assert.deepEqual(events, ['load 1 at 0', 'load 2 at 11000']);
  });

  it('starts over with a fresh count when the page is set again', () => {
    const { watchdog, events, tick} = watched();
    watchdog.start();
    tick(1000);
    watchdog.start();
    tick(1000);
    watchdog.dispose();
    tick(60_000);
    assert.deepEqual(events, ['load 1 at 0', 'load 2 at 1000', 'load 1 at 1000', 'load 2 at 2000']);
  });
});
