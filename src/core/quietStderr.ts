/**
 * Running a synchronous action with the process's standard error (descriptor 2) pointed at
 * the null device, for native libraries that print on load what no setting hides.
 *
 * TensorFlow writes two lines when it loads with its oneDNN kernels on ("All log messages
 * before absl::InitializeLog() is called are written to STDERR" and "oneDNN custom
 * operations are on …") through absl's logging, which TF_CPP_MIN_LOG_LEVEL no longer
 * reaches. They would stand in front of every message of the command line.
 *
 * Node has no dup2, so this relies on open() returning the lowest free descriptor: a second
 * descriptor of the same stderr is opened through /proc/self/fd/2, descriptor 2 is closed
 * and the null device opened in its place, and afterwards the other way round. Only on
 * Linux, and only where stderr can be reopened (a terminal, a file or a pipe; not the
 * socket a Node parent gives its children, whose output goes to a log anyway): elsewhere
 * the action runs as it is. Nothing written in between is lost but what the action itself
 * writes to descriptor 2: Node's own writes to process.stderr are JavaScript, which cannot
 * run until the synchronous action returns. Call it where no other thread opens files (as
 * at the engine's start, where the backend loads): one that did between the close and the
 * open would be given descriptor 2.
 */
import * as fs from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const STDERR = 2;
/**
 * Appending, so that a stderr redirected to a file is not truncated, and without making a
 * terminal the process's controlling one.
 */
const REOPEN_FLAGS = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_NOCTTY;

/** Whether `withStderrSilenced` can silence stderr in this process (see above). */
export function canSilenceStderr(): boolean {
  const saved = canSwapStderr() ? reopenStderr() : undefined;
  if (saved === undefined) return false;
  fs.closeSync(saved);
  return true;
}

export function withStderrSilenced<T>(action: () => T): T {
  const saved = canSwapStderr() ? reopenStderr() : undefined;
  if (saved === undefined) return action();
  try {
    fs.closeSync(STDERR);
    let nullDevice: number | undefined;
    try {
      // Descriptors 0 and 1 are open (canSwapStderr), so 2 is the lowest free one again.
      nullDevice = fs.openSync('/dev/null', 'w');
      return action();
    } finally {
      if (nullDevice !== undefined) fs.closeSync(nullDevice);
      fs.openSync(`/proc/self/fd/${saved}`, REOPEN_FLAGS);
    }
  } finally {
    fs.closeSync(saved);
  }
}

/**
 * Whether swapping descriptor 2 is safe here: on Linux, on the main thread (worker threads
 * share the descriptors, and what a library prints once per process has been printed by
 * then), with descriptors 0 and 1 open so that a closed 2 is the lowest free one.
 */
function canSwapStderr(): boolean {
  if (process.platform !== 'linux' || !isMainThread) return false;
  try {
    fs.fstatSync(0);
    fs.fstatSync(1);
    return true;
  } catch {
    return false;
  }
}

/** A second descriptor of what stderr is, or undefined where it cannot be reopened. */
function reopenStderr(): number | undefined {
  try {
    return fs.openSync('/proc/self/fd/2', REOPEN_FLAGS);
  } catch {
    return undefined;
  }
}
