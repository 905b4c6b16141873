/**
 * What a Models card says about a run that repeated another run's experiment elsewhere (a
 * Keras experiment, `seqlab export --keras-script`): which run, and how its validation loss
 * compares, the figure that shows whether the two trainings agree.
 */
import { formatNumber } from '../protocol/format';
import type { RunInfo } from '../protocol/lsp';

export function reproductionNote(run: Pick<RunInfo, 'reproduces' | 'bestValLoss'>, original: Pick<RunInfo, 'bestValLoss'> | undefined, originalLabel: string): string | null {
  if (!run.reproduces) return null;
  if (!original) return `Trained in Keras from the run ${run.reproduces}, which is no longer listed.`;
  const [mine, theirs] = [run.bestValLoss, original.bestValLoss];
  if (mine == null || theirs == null) return `Trained in Keras from ${originalLabel}.`;
  const change = (mine - theirs) / theirs;
  const sign = change > 0 ? '+' : change < 0 ? '−' : '±';
  return `Trained in Keras from ${originalLabel}: validation loss ${formatNumber(mine)} against ${formatNumber(theirs)} there (${sign}${Math.abs(change * 100).toFixed(1)}%).`;
}
