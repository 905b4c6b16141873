/**
 * The dashboard page: keeps each shown run's curves, draws them with ./charts, and shows a
 * card per run (figures while it trains, a Stop button, the latest sample continuation).
 * It saves only the ids of its runs; everything else comes back from the extension on
 * 'ready', so hiding the tab or reloading the window loses nothing.
 */
import { formatCount, formatDuration, formatNumber, formatPercent, isActiveState, plural, runLabel, STATE_LABELS } from '../protocol/format';
import type { BatchPoint, RunHistory, RunInfo, RunProgress } from '../protocol/lsp';
import type { BatchProgress, EpochMetrics } from '../protocol/types';
import { isHostToDashboard, type DashboardState, type DashboardToHost, type HostToDashboard } from '../protocol/webview';
import { Charts, type RunSeries } from './charts';
import { byId, h } from './dom';
import { onThemeChange, runColourVar } from './theme';
import { channel, onMessage } from './vscodeApi';

/** Past this many per-batch points a run's curve is thinned by half: the chart stays quick and looks the same. */
const MAX_BATCH_POINTS = 4000;

interface RunView {
  info: RunInfo;
  series: RunSeries;
  lastStep: number;
  /** Batches per epoch, from live progress or estimated from the history; places epoch points on the batch axis. */
  batchesPerEpoch: number;
  latest?: BatchProgress;
  /** Per-epoch figures, one per epoch, in order. */
  epochs: EpochMetrics[];
  sample?: { epoch: number; text: string };
  card: RunCard;
}

const vscode = channel<DashboardToHost, DashboardState>();
const charts = new Charts({ loss: byId<HTMLCanvasElement>('chart-loss'), accuracy: byId<HTMLCanvasElement>('chart-accuracy') });
const runsBox = byId('runs');
const empty = byId('empty');
let views = new Map<string, RunView>();
let cardsPending = false;

onMessage(isHostToDashboard, (message: HostToDashboard) => {
  switch (message.type) {
    case 'show':
      show(message.runs, message.histories);
      break;
    case 'runs':
      for (const info of message.runs) {
        const view = views.get(info.id);
        if (view) view.info = info;
      }
      scheduleCards();
      break;
    case 'progress':
      applyProgress(message.progress);
      break;
  }
});
onThemeChange(() => charts.applyTheme());
vscode.post({ type: 'ready' });

function show(runs: RunInfo[], histories: RunHistory[]): void {
  const byRun = new Map(histories.map((history) => [history.runId, history]));
  views = new Map(runs.map((info, index) => [info.id, buildView(info, index, byRun.get(info.id))]));
  vscode.setState({ runIds: runs.map((run) => run.id) });
  runsBox.replaceChildren(...[...views.values()].map((view) => view.card.element));
  empty.hidden = runs.length > 0;
  charts.setSeries([...views.values()].map((view) => view.series));
  for (const view of views.values()) view.card.update(view);
}

function buildView(info: RunInfo, colourIndex: number, history: RunHistory | undefined): RunView {
  const view: RunView = {
    info,
    series: {
      label: runLabel(info),
      colourIndex,
      loss: { batch: [], epoch: [], validation: [] },
      accuracy: { batch: [], epoch: [], validation: [] },
    },
    lastStep: 0,
    epochs: [],
    batchesPerEpoch: estimateBatchesPerEpoch(history?.batches ?? []),
    card: new RunCard(info, colourIndex),
  };
  for (const point of history?.batches ?? []) addBatch(view, point);
  for (const epoch of history?.epochs ?? []) addEpoch(view, epoch);
  view.sample = history?.samples.at(-1);
  return view;
}

/**
 * The history's points carry a global step and their epoch but not the batches per epoch.
 * An epoch's last step is at most epoch × batches, and the kept points include each
 * epoch's end in practice, so the largest step/epoch ratio is a close estimate.
 */
function estimateBatchesPerEpoch(points: BatchPoint[]): number {
  return Math.max(1, ...points.map((p) => Math.ceil(p.step / Math.max(1, p.epoch))));
}

function addBatch(view: RunView, point: BatchPoint): void {
  // Progress sent before a history reply may arrive after it: keep each step once.
  if (point.step <= view.lastStep) return;
  view.lastStep = point.step;
  const { loss, accuracy } = view.series;
  loss.batch.push({ x: point.step, y: point.loss });
  accuracy.batch.push({ x: point.step, y: point.accuracy });
  if (loss.batch.length > MAX_BATCH_POINTS) {
    loss.batch.splice(0, loss.batch.length, ...thin(loss.batch));
    accuracy.batch.splice(0, accuracy.batch.length, ...thin(accuracy.batch));
  }
}

function thin<T>(points: T[]): T[] {
  return points.filter((_, i) => i % 2 === 0 || i === points.length - 1);
}

function addEpoch(view: RunView, epoch: EpochMetrics): void {
  // An epoch reported twice (live and in the history) counts once.
  const at = view.epochs.findIndex((e) => e.epoch === epoch.epoch);
  if (at >= 0) view.epochs[at] = epoch;
  else view.epochs.push(epoch);
  placeEpochs(view);
}

/** Rebuilds the per-epoch curves in place (the charts hold these arrays) at x = end of each epoch. */
function placeEpochs(view: RunView): void {
  const { loss, accuracy } = view.series;
  const at = (e: EpochMetrics, y: number | null) => (y === null || !Number.isFinite(y) ? [] : [{ x: e.epoch * view.batchesPerEpoch, y }]);
  loss.epoch.splice(0, Infinity, ...view.epochs.flatMap((e) => at(e, e.loss)));
  accuracy.epoch.splice(0, Infinity, ...view.epochs.flatMap((e) => at(e, e.accuracy)));
  loss.validation.splice(0, Infinity, ...view.epochs.flatMap((e) => at(e, e.valLoss)));
  accuracy.validation.splice(0, Infinity, ...view.epochs.flatMap((e) => at(e, e.valAccuracy)));
}

function applyProgress(progress: RunProgress): void {
  const view = views.get(progress.runId);
  if (!view) return;
  if (progress.batch) {
    view.latest = progress.batch;
    addBatch(view, progress.batch);
    if (progress.batch.batches !== view.batchesPerEpoch) {
      view.batchesPerEpoch = progress.batch.batches;
      placeEpochs(view);
    }
  }
  if (progress.epoch) addEpoch(view, progress.epoch);
  if (progress.sample) view.sample = progress.sample;
  if (progress.state) view.info = { ...view.info, state: progress.state, error: progress.error ?? view.info.error };
  charts.redraw();
  scheduleCards();
}

function scheduleCards(): void {
  if (cardsPending) return;
  cardsPending = true;
  requestAnimationFrame(() => {
    cardsPending = false;
    for (const view of views.values()) view.card.update(view);
  });
}

/** A run's card, built once and updated in place so that focus on its Stop button survives updates. */
class RunCard {
  readonly element: HTMLElement;
  private readonly state: HTMLElement;
  private readonly figures: HTMLElement;
  private readonly points: HTMLOutputElement;
  private readonly stop: HTMLButtonElement;
  private readonly sample: HTMLElement;
  private readonly error: HTMLElement;

  constructor(info: RunInfo, colourIndex: number) {
    const label = runLabel(info);
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.setProperty('background-color', runColourVar(colourIndex));
    this.state = h('span', { class: 'state', 'data-testid': `state-${info.id}` });
    this.figures = h('span', { class: 'figures' });
    this.points = h('output', { 'data-testid': `points-${info.id}`, 'aria-label': `points drawn for ${label}` });
    this.stop = h('button', { type: 'button', class: 'stop', 'data-testid': `stop-${info.id}`, 'aria-label': `Stop training ${label}` }, 'Stop');
    this.stop.addEventListener('click', () => {
      this.stop.disabled = true;
      vscode.post({ type: 'stop', runId: info.id });
    });
    this.sample = h('blockquote', { class: 'sample', 'data-testid': `sample-${info.id}` });
    this.error = h('p', { class: 'error', role: 'alert' });
    this.element = h(
      'article',
      { class: 'run', 'data-testid': `run-card-${info.id}`, 'data-run-id': info.id, 'aria-label': label },
      h('h2', {}, swatch, h('span', { class: 'name' }, label), this.state),
      h('p', { class: 'line' }, this.figures, h('span', { class: 'points' }, 'points: ', this.points), this.stop),
      this.error,
      this.sample,
    );
  }

  update(view: RunView): void {
    const { info, latest, sample } = view;
    const lastEpoch = view.epochs.at(-1);
    const training = isActiveState(info.state);
    this.element.dataset.state = info.state;
    this.state.textContent = STATE_LABELS[info.state];
    this.points.value = String(view.series.loss.batch.length);
    this.stop.hidden = !training;
    if (!training) this.stop.disabled = false;
    this.figures.textContent = figures(info, latest, lastEpoch, training);
    this.error.hidden = !info.error;
    this.error.textContent = info.error ?? '';
    this.sample.hidden = !sample;
    if (sample) {
      this.sample.replaceChildren(h('span', { class: 'sample-epoch' }, `after epoch ${sample.epoch}: `), sample.text);
    }
  }
}

/** The line of figures: live ones while training, the run's results after. */
function figures(info: RunInfo, latest: BatchProgress | undefined, lastEpoch: EpochMetrics | undefined, training: boolean): string {
  if (training && latest) {
    return [
      `epoch ${latest.epoch}/${latest.epochs}`,
      `loss ${formatNumber(latest.loss)}`,
      lastEpoch?.valLoss != null ? `val loss ${formatNumber(lastEpoch.valLoss)}` : '',
      `${formatCount(latest.tokensPerSecond)} tokens/s`,
      `ETA ${formatDuration(latest.etaSeconds)}`,
    ]
      .filter(Boolean)
      .join(' · ');
  }
  if (training) return info.state === 'queued' ? 'waiting for a free core' : 'preparing the text';
  return [
    plural(info.epochsDone, 'epoch'),
    `best val loss ${formatNumber(info.bestValLoss)}`,
    `val accuracy ${formatPercent(info.valAccuracy)}`,
    `perplexity ${formatNumber(info.valPerplexity)}${info.baselines ? ` (KN3 ${formatNumber(info.baselines.kn3)})` : ''}`,
    info.natsPerChar != null ? `${formatNumber(info.natsPerChar)} nats/char` : '',
    `${formatCount(info.tokensPerSecond)} tokens/s`,
    `time ${formatDuration(info.seconds)}`,
  ]
    .filter(Boolean)
    .join(' · ');
}
