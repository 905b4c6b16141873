/**
 * The dashboard page: keeps each shown run's points, draws them with ./charts under the
 * controls of ./controlsBar, shows a card per run (figures while it trains, a Stop button,
 * the latest sample continuation) and a table of the runs' settings (./settingsTable).
 * It saves only the ids of its runs and the controls; everything else comes back from the
 * extension on 'ready', so hiding the tab or reloading the window loses nothing.
 */
import { formatCount, formatDuration, formatNumber, formatPercent, isActiveState, plural, STATE_LABELS } from '../protocol/format';
import type { BatchPoint, RunHistory, RunInfo, RunProgress } from '../protocol/lsp';
import type { BatchProgress, EpochMetrics } from '../protocol/types';
import { isHostToDashboard, type DashboardState, type DashboardToHost, type HostToDashboard, type RunLabels } from '../protocol/webview';
import { Charts, type ChartRun } from './charts';
import { parseControls, type ChartControls } from './controls';
import { ControlsBar } from './controlsBar';
import { byId, h } from './dom';
import { liveLine } from './liveFigures';
import { renderSettings } from './settingsTable';
import { onThemeChange, runColourVar } from './theme';
import { channel, onMessage } from './vscodeApi';
import { Clock, type TimeAnchor } from './xAxis';

/** Past this many per-batch points a run's curve is thinned by half: the chart stays quick and looks the same. */
const MAX_BATCH_POINTS = 4000;

interface RunView {
  info: RunInfo;
  label: string;
  colourIndex: number;
  chart: ChartRun;
  /** Moments of live batches (step, seconds since the start); the clock is rebuilt from them and the epochs' ends. */
  times: TimeAnchor[];
  lastStep: number;
  latest?: BatchProgress;
  sample?: { epoch: number; text: string };
  card: RunCard;
}

type PageState = DashboardState & { controls: ChartControls };

const vscode = channel<DashboardToHost, PageState>();
const saved = vscode.getState() as Partial<PageState> | undefined;
const bar = new ControlsBar(parseControls(saved?.controls), (controls) => {
  charts.setControls(controls);
  drawSettings();
  saveState();
});
const charts = new Charts(
  { loss: byId<HTMLCanvasElement>('chart-loss'), accuracy: byId<HTMLCanvasElement>('chart-accuracy') },
  bar.value,
  (zoom) => bar.change({ zoom }),
);
const runsBox = byId('runs');
const empty = byId('empty');
const settingsTable = byId<HTMLTableElement>('settings-table');
const settingsNote = byId('settings-note');
const diffOnly = byId<HTMLInputElement>('diff-only');
let views = new Map<string, RunView>();
let cardsPending = false;

diffOnly.checked = bar.value.diffOnly;
diffOnly.addEventListener('change', () => bar.change({ diffOnly: diffOnly.checked }));
for (const format of ['csv', 'json'] as const) {
  byId(`export-${format}`).addEventListener('click', () => vscode.post({ type: 'export', format }));
}

onMessage(isHostToDashboard, (message: HostToDashboard) => {
  switch (message.type) {
    case 'show':
      show(message.runs, message.histories, message.labels);
      break;
    case 'runs':
      for (const info of message.runs) {
        const view = views.get(info.id);
        if (!view) continue;
        view.info = info;
        view.label = message.labels[info.id] ?? view.label;
        view.chart.label = view.label;
      }
      drawSettings();
      charts.redraw();
      scheduleCards();
      break;
    case 'progress':
      applyProgress(message.progress);
      break;
  }
});
onThemeChange(() => charts.applyTheme());
charts.applyTheme();
vscode.post({ type: 'ready' });

function saveState(): void {
  vscode.setState({ runIds: [...views.keys()], controls: bar.value });
}

function show(runs: RunInfo[], histories: RunHistory[], labels: RunLabels): void {
  const byRun = new Map(histories.map((history) => [history.runId, history]));
  views = new Map(runs.map((info, index) => [info.id, buildView(info, labels[info.id] ?? info.id, index, byRun.get(info.id))]));
  saveState();
  runsBox.replaceChildren(...[...views.values()].map((view) => view.card.element));
  empty.hidden = runs.length > 0;
  charts.setRuns([...views.values()].map((view) => view.chart));
  drawSettings();
  for (const view of views.values()) view.card.update(view);
}

function drawSettings(): void {
  const runs = [...views.values()].map((view) => ({ info: view.info, label: view.label, colourIndex: view.colourIndex }));
  settingsNote.textContent = renderSettings(settingsTable, runs, bar.value.diffOnly);
  byId('settings').hidden = runs.length === 0;
}

function buildView(info: RunInfo, label: string, colourIndex: number, history: RunHistory | undefined): RunView {
  const view: RunView = {
    info,
    label,
    colourIndex,
    chart: { label, colourIndex, batches: [], epochs: [], batchesPerEpoch: history?.batchesPerEpoch ?? estimateBatchesPerEpoch(history?.batches ?? []), clock: new Clock() },
    times: [],
    lastStep: 0,
    card: new RunCard(info, label, colourIndex),
  };
  for (const point of history?.batches ?? []) addBatch(view, point);
  for (const epoch of history?.epochs ?? []) addEpoch(view, epoch);
  view.sample = history?.samples.at(-1);
  return view;
}

/**
 * For a history that does not say how many batches an epoch has (saved by an older
 * version): an epoch's last step is at most epoch × batches, and the kept points include
 * each epoch's end in practice, so the largest step/epoch ratio is a close estimate.
 */
function estimateBatchesPerEpoch(points: BatchPoint[]): number {
  return Math.max(1, ...points.map((p) => Math.ceil(p.step / Math.max(1, p.epoch))));
}

function addBatch(view: RunView, point: BatchPoint): void {
  // Progress sent before a history reply may arrive after it: keep each step once.
  if (point.step <= view.lastStep) return;
  view.lastStep = point.step;
  const batches = view.chart.batches;
  batches.push({ step: point.step, epoch: point.epoch, loss: point.loss, accuracy: point.accuracy });
  if (batches.length > MAX_BATCH_POINTS) batches.splice(0, batches.length, ...thin(batches));
}

function thin<T>(points: T[]): T[] {
  return points.filter((_, i) => i % 2 === 0 || i === points.length - 1);
}

function addEpoch(view: RunView, epoch: EpochMetrics): void {
  // An epoch reported twice (live and in the history) counts once.
  const epochs = view.chart.epochs;
  const at = epochs.findIndex((e) => e.epoch === epoch.epoch);
  if (at >= 0) epochs[at] = epoch;
  else epochs.push(epoch);
  view.chart.clock.add(epoch.epoch * view.chart.batchesPerEpoch, epoch.elapsedSeconds);
}

/** After the batches per epoch changed, the epochs' ends moved on the step axis: place their times again. */
function rebuildClock(view: RunView): void {
  const clock = new Clock();
  for (const e of view.chart.epochs) clock.add(e.epoch * view.chart.batchesPerEpoch, e.elapsedSeconds);
  for (const t of view.times) clock.add(t.step, t.seconds);
  view.chart.clock = clock;
}

function applyProgress(progress: RunProgress): void {
  const view = views.get(progress.runId);
  if (!view) return;
  const batch = progress.batch;
  if (batch) {
    view.latest = batch;
    addBatch(view, batch);
    view.times.push({ step: batch.step, seconds: batch.elapsedSeconds });
    if (batch.batches !== view.chart.batchesPerEpoch) {
      view.chart.batchesPerEpoch = batch.batches;
      rebuildClock(view);
    } else {
      view.chart.clock.add(batch.step, batch.elapsedSeconds);
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
  private readonly name: HTMLElement;
  private readonly state: HTMLElement;
  private readonly figures: HTMLElement;
  private readonly stop: HTMLButtonElement;
  private readonly sample: HTMLElement;
  private readonly error: HTMLElement;

  constructor(info: RunInfo, label: string, colourIndex: number) {
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.setProperty('background-color', runColourVar(colourIndex));
    this.name = h('span', { class: 'name' }, label);
    this.state = h('span', { class: 'state', 'data-testid': `state-${info.id}` });
    this.figures = h('span', { class: 'figures', 'data-testid': `figures-${info.id}` });
    this.stop = h('button', { type: 'button', class: 'stop', 'data-testid': `stop-${info.id}` }, 'Stop');
    this.stop.addEventListener('click', () => {
      this.stop.disabled = true;
      vscode.post({ type: 'stop', runId: info.id });
    });
    this.sample = h('blockquote', { class: 'sample', 'data-testid': `sample-${info.id}` });
    this.error = h('p', { class: 'error', role: 'alert' });
    this.element = h(
      'article',
      { class: 'run', 'data-testid': `run-card-${info.id}`, 'data-run-id': info.id },
      h('h2', {}, swatch, this.name, h('span', { class: 'corpus' }, info.corpusName), this.state),
      h('p', { class: 'line' }, this.figures, this.stop),
      this.error,
      this.sample,
    );
  }

  update(view: RunView): void {
    const { info, latest, sample } = view;
    const training = isActiveState(info.state);
    this.element.dataset.state = info.state;
    this.element.setAttribute('aria-label', `${view.label} on ${info.corpusName}`);
    // For tests and curious people: how many per-batch points the charts hold, not shown.
    this.element.dataset.points = String(view.chart.batches.length);
    this.name.textContent = view.label;
    this.state.textContent = STATE_LABELS[info.state];
    this.stop.setAttribute('aria-label', `Stop training ${view.label}`);
    this.stop.hidden = !training;
    if (!training) this.stop.disabled = false;
    this.figures.textContent = training ? liveLine(info, { latest, lastEpoch: view.chart.epochs.at(-1) }) : results(info);
    this.error.hidden = !info.error;
    this.error.textContent = info.error ?? '';
    this.sample.hidden = !sample;
    if (sample) {
      this.sample.replaceChildren(h('span', { class: 'sample-epoch' }, `after epoch ${sample.epoch}: `), sample.text);
    }
  }
}

/** The line of figures of a run that has ended. */
function results(info: RunInfo): string {
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
