/**
 * The notification that follows a training or comparison: epoch, loss, speed and ETA,
 * cancellable (cancel = `seqlab/stop`, which keeps each run's best epoch), and one
 * sentence with the result when every run has ended.
 */
import * as vscode from 'vscode';
import { cellName, formatCount, formatDuration, formatNumber, formatPercent, hasModel, isActiveState, plural } from '../protocol/format';
import { Methods, type RunInfo } from '../protocol/lsp';
import type { BatchProgress } from '../protocol/types';
import type { Services } from './services';

/** Often enough to feel live, rarely enough not to flicker. */
const REFRESH_MS = 250;

export async function trackTraining(s: Services, runIds: readonly string[], title: string): Promise<void> {
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        const latest = new Map<string, BatchProgress>();
        let reported = 0;
        let lastRefresh = 0;

        const seen = new Set<string>();
        const runs = () => runIds.map((id) => s.runs.get(id));
        // A run that was in the registry and is gone was deleted: it has ended too. One not
        // seen yet is still on its way (runsChanged may come after the train reply).
        const ended = () =>
          runIds.every((id) => {
            const run = s.runs.get(id);
            if (run) seen.add(id);
            return run ? !isActiveState(run.state) : seen.has(id);
          });

        const refresh = (force = false) => {
          const now = Date.now();
          if (!force && now - lastRefresh < REFRESH_MS) return;
          lastRefresh = now;
          const fraction = average(runs().map((run) => (run ? doneFraction(run, latest.get(run.id)) : 1)));
          const increment = Math.max(0, fraction * 100 - reported);
          reported += increment;
          progress.report({ message: progressMessage(runs(), latest), increment });
        };

        const subscriptions = [
          s.engine.onProgress((p) => {
            if (!runIds.includes(p.runId)) return;
            if (p.batch) latest.set(p.runId, p.batch);
            refresh();
          }),
          s.runs.onDidChange(() => {
            if (ended()) finish();
            else refresh(true);
          }),
          token.onCancellationRequested(() => {
            s.log.info(`Stopping ${runIds.join(', ')} (cancelled from the notification).`);
            for (const id of runIds) {
              s.engine.request(Methods.stop, { runId: id }).catch((e) => s.log.error(`Stopping ${id} failed: ${String(e)}`));
            }
          }),
        ];
        const finish = () => {
          for (const d of subscriptions) d.dispose();
          resolve();
        };
        if (ended()) finish();
        else refresh(true);
      }),
  );
  await announce(s, runIds);
}

function average(values: number[]): number {
  return values.length === 0 ? 1 : values.reduce((a, b) => a + b, 0) / values.length;
}

function doneFraction(run: RunInfo, batch: BatchProgress | undefined): number {
  if (!isActiveState(run.state)) return 1;
  if (!batch) return run.epochsDone / Math.max(1, run.config.epochs);
  return Math.min(1, (batch.epoch - 1 + batch.batch / Math.max(1, batch.batches)) / Math.max(1, batch.epochs));
}

/** "epoch 3/20 · loss 4.21 · 1.20k tokens/s · ETA 1m 20s", or per cell for a comparison. */
function progressMessage(runs: (RunInfo | undefined)[], latest: Map<string, BatchProgress>): string {
  const present = runs.filter((run): run is RunInfo => run !== undefined);
  const eta = Math.max(0, ...present.map((run) => (isActiveState(run.state) ? (latest.get(run.id)?.etaSeconds ?? 0) : 0)));
  const etaText = eta > 0 ? ` · ETA ${formatDuration(eta)}` : '';
  if (present.length === 1) {
    const [run] = present;
    const batch = latest.get(run.id);
    if (run.state === 'queued') return 'waiting for a free core…';
    if (!batch) return isActiveState(run.state) ? 'preparing the text…' : run.state;
    return `epoch ${batch.epoch}/${batch.epochs} · loss ${formatNumber(batch.loss)} · ${formatCount(batch.tokensPerSecond)} tokens/s${etaText}`;
  }
  const parts = present.map((run) => {
    const batch = latest.get(run.id);
    const where = run.state === 'training' && batch ? `${batch.epoch}/${batch.epochs}` : run.state;
    return `${cellName(run.cell)} ${where}`;
  });
  return parts.join(' · ') + etaText;
}

/** One sentence about how the runs ended; the first usable model becomes the suggester if none was chosen. */
async function announce(s: Services, runIds: readonly string[]): Promise<void> {
  const runs = runIds.map((id) => s.runs.get(id)).filter((run): run is RunInfo => run !== undefined);
  if (runs.length === 0) return;
  for (const run of runs.filter((r) => r.state === 'failed')) {
    s.log.error(`${s.runs.label(run)} failed: ${run.error ?? 'no reason given'}`);
  }
  const usable = runs.filter((r) => hasModel(r) && r.state !== 'failed').sort((a, b) => (a.bestValLoss ?? Infinity) - (b.bestValLoss ?? Infinity));
  let activated = false;
  if (usable.length > 0 && s.runs.activeRunId === null) {
    try {
      await s.engine.request(Methods.setActiveModel, { runId: usable[0].id });
      activated = true;
    } catch (error) {
      s.log.error(`Choosing ${usable[0].id} for suggestions failed: ${String(error)}`);
    }
  }
  const sentence = resultSentence(runs, activated ? usable[0] : undefined, s.config.suggestions.enabled, (run) => s.runs.label(run));
  const failed = runs.some((r) => r.state === 'failed');
  const show = failed ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
  const actions = failed ? ['Show Log'] : usable.length > 0 && !activated ? ['Use for Suggestions'] : [];
  const choice = await show(sentence, ...actions);
  if (choice === 'Show Log') s.log.show(true);
  if (choice === 'Use for Suggestions') await vscode.commands.executeCommand('seqlab.useModel', usable[0].id);
}

function resultSentence(runs: RunInfo[], activated: RunInfo | undefined, suggestionsOn: boolean, runLabel: (run: RunInfo) => string): string {
  const suffix = !activated
    ? ''
    : suggestionsOn
      ? `; ${cellName(activated.cell)} now suggests your next words`
      : `; ${cellName(activated.cell)} is chosen for suggestions, which are off`;
  if (runs.length === 1) {
    const [run] = runs;
    switch (run.state) {
      case 'failed':
        return `${runLabel(run)} failed: ${run.error ?? 'see the SeqLab output'}`;
      case 'stopped':
        return run.epochsDone > 0
          ? `${runLabel(run)} stopped after ${plural(run.epochsDone, 'epoch')} and keeps its best one, validation perplexity ${formatNumber(run.valPerplexity)}${suffix}.`
          : `${runLabel(run)} stopped before finishing an epoch, so it has no model.`;
      default:
        return `${runLabel(run)} finished with validation perplexity ${formatNumber(run.valPerplexity)}${againstKn3(run)}${keystrokesSaved(run)}${suffix}.`;
    }
  }
  const figures = runs
    .map((run) => `${cellName(run.cell)} ${run.state === 'failed' ? 'failed' : formatNumber(run.valPerplexity)}`)
    .join(', ');
  const kn3 = runs.find((r) => r.baselines)?.baselines?.kn3;
  return `Comparison ended, validation perplexity ${figures}${kn3 !== undefined ? ` (KN3 baseline ${formatNumber(kn3)})` : ''}${suffix}.`;
}

/** What the suggestions are worth, measured on the validation text when the run fitted its suggestion model. */
function keystrokesSaved(run: RunInfo): string {
  return run.suggestion ? `; its suggestions saved ${formatPercent(run.suggestion.keystrokeSavings)} of keystrokes typing the validation text` : '';
}

/** Whether the run beat the Kneser-Ney trigram: if not, it learned no more than counting. */
function againstKn3(run: RunInfo): string {
  const kn3 = run.baselines?.kn3;
  if (kn3 === undefined || run.valPerplexity == null) return '';
  const verdict = run.valPerplexity < kn3 ? 'and beats' : 'but does not beat';
  return ` ${verdict} the KN3 baseline (${formatNumber(kn3)})`;
}
