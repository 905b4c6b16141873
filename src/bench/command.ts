/** `seqlab bench [--json] [--quick] [--quality] [--backend B]`. */
import type { ParsedArgs } from '../cli/args';
import type { CommandIO } from '../cli/commands';
import { resolveTrainConfig } from '../core/config';
import { runBench } from './index';
import { formatReport } from './report';

export async function benchCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  const report = await runBench({
    backend: resolveTrainConfig({ backend: args.train.backend }).backend,
    quick: Boolean(args.flags.quick),
    quality: Boolean(args.flags.quality),
    progress: (line) => io.stderr.write(`bench: ${line}\n`),
  });
  io.stdout.write((args.flags.json ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n');
}
