/** `seqlab bench [--json] [--quick] [--quality | --backends [--python PY] [--threads N] | --scaling] [--backend B]`. */
import type { ParsedArgs } from '../cli/args';
import type { CommandIO } from '../cli/commands';
import { resolveTrainConfig } from '../core/config';
import { formatBackendsReport, runBackendsBench } from './backends';
import { runQualityBench } from './heldout';
import { runBench } from './index';
import { formatThreadsReport, runThreadsBench } from './scaling';
import { formatQualityReport } from './qualityReport';
import { formatReport } from './report';

export async function benchCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  const options = {
    backend: resolveTrainConfig({ backend: args.train.backend }).backend,
    quick: Boolean(args.flags.quick),
    progress: (line: string) => io.stderr.write(`bench: ${line}\n`),
  };
  // Speed and quality are separate runs: each takes minutes, and people ask for one or the other.
  if (args.flags.quality) {
    const report = await runQualityBench({ ...options, train: args.train });
    io.stdout.write((args.flags.json ? JSON.stringify(report, null, 2) : formatQualityReport(report)) + '\n');
    return;
  }
  if (args.flags.backends) {
    const python = typeof args.flags.python === 'string' ? args.flags.python : undefined;
    const threads = args.train.threads && args.train.threads > 0 ? args.train.threads : undefined;
    const report = await runBackendsBench({ ...options, python, threads });
    io.stdout.write((args.flags.json ? JSON.stringify(report, null, 2) : formatBackendsReport(report)) + '\n');
    return;
  }
  if (args.flags.scaling) {
    const report = await runThreadsBench(options);
    io.stdout.write((args.flags.json ? JSON.stringify(report, null, 2) : formatThreadsReport(report)) + '\n');
    return;
  }
  const report = await runBench(options);
  io.stdout.write((args.flags.json ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n');
}
