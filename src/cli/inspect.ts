/**
 * `seqlab inspect VIEW ...`: the views that look inside a trained model, for scripts. Each
 * view writes its figures as JSON and its chart as SVG; one module per view, registered in
 * the table below.
 */
import { UserError } from '../core/errors';
import type { CommandIO } from './commands';
import type { ParsedArgs } from './args';
import { inspectSurprisalView } from './inspectSurprisal';
import { inspectMemoryView } from './inspectMemory';
import { inspectCellsView } from './inspectCells';

export type InspectView = (args: ParsedArgs, io: CommandIO) => Promise<void>;

/** View name → what it does (for the usage line) and the code that does it. */
export const INSPECT_VIEWS: Record<string, { about: string; run: InspectView }> = {
  surprisal: { about: "each word's surprisal under a model, with its five guesses and rank, shaded over the text", run: inspectSurprisalView },
  cells: { about: "one unit's value or gate as a heat map over a text, and the units that follow simple text features", run: inspectCellsView },
  memory: { about: 'gradient norm by steps back and held-out loss by tokens of context, runs overlaid', run: inspectMemoryView },
};

export async function inspectCommand(args: ParsedArgs, io: CommandIO): Promise<void> {
  const [view, ...positionals] = args.positionals;
  const names = Object.keys(INSPECT_VIEWS);
  if (!view || !INSPECT_VIEWS[view]) {
    const known = names.map((name) => `${name} (${INSPECT_VIEWS[name].about})`).join('; ');
    throw new UserError(`${view ? `"${view}" is not a view of inspect` : 'inspect needs a view'}: choose one of ${known || 'none yet'}.`);
  }
  await INSPECT_VIEWS[view].run({ ...args, positionals }, io);
}
