/**
 * `seqlab`: the engine on the command line. Errors a person can fix print one sentence and
 * exit 1; anything else is a bug and says so.
 */
import { benchCommand } from './bench/command';
import { parseCommandLine, USAGE } from './cli/args';
import { compareCommand, demoCommand, evalCommand, exportCommand, generateCommand, importCommand, trainCommand, type CommandIO } from './cli/commands';
import { inspectCommand } from './cli/inspect';
import { isUserError } from './core/errors';

const COMMANDS: Record<string, (args: ReturnType<typeof parseCommandLine>, io: CommandIO) => Promise<void>> = {
  train: trainCommand,
  compare: compareCommand,
  generate: generateCommand,
  eval: evalCommand,
  demo: demoCommand,
  bench: benchCommand,
  export: exportCommand,
  import: importCommand,
  inspect: inspectCommand,
};

async function main(argv: string[]): Promise<number> {
  const stop = new AbortController();
  process.on('SIGINT', () => {
    // The first Ctrl+C stops training gracefully; a second one quits at once.
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('\nStopping after this batch (Ctrl+C again to quit now)...\n');
    stop.abort();
  });
  try {
    const args = parseCommandLine(argv);
    if (!args.command || args.command === 'help' || args.flags.help) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    const command = COMMANDS[args.command];
    if (!command) {
      process.stderr.write(`seqlab: unknown command "${args.command}". Run "seqlab help" for the commands.\n`);
      return 1;
    }
    await command(args, { stdout: process.stdout, stderr: process.stderr, signal: stop.signal });
    return 0;
  } catch (error) {
    if (isUserError(error)) {
      process.stderr.write(`seqlab: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`seqlab: internal error: ${(error as Error)?.message ?? error}. Please report it.\n`);
    if (process.env.SEQLAB_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
