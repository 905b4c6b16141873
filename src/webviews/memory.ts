/**
 * The Memory Through Time page: a legend of the runs (their dashboard colours and names,
 * with what each was measured on), the progress of the measurements, and the two charts
 * (./memoryCharts) of the runs measured so far. The data comes from the extension; the
 * page keeps the run ids in its state so the panel comes back after a window reload.
 */
import { cellName, plural } from '../protocol/format';
import { isHostToMemory, type MemoryPanelRun, type MemoryToHost, type MemoryViewState } from '../protocol/memory';
import { byId, h } from './dom';
import { MemoryCharts, type DrawnRun } from './memoryCharts';
import { onThemeChange, runColourVar } from './theme';
import { channel, onMessage } from './vscodeApi';

const vscode = channel<MemoryToHost, MemoryViewState>();
const progressText = byId('progress-text');
const progressBar = byId<HTMLProgressElement>('progress');
const legend = byId('legend');
const failures = byId('failures');
const charts = new MemoryCharts(byId<HTMLCanvasElement>('gradient'), byId<HTMLCanvasElement>('context'));

onThemeChange(() => charts.applyTheme());
onMessage(isHostToMemory, ({ runs }) => {
  vscode.setState({ runIds: runs.map((run) => run.runId) });
  showProgress(runs);
  legend.replaceChildren(...runs.map(legendItem));
  const failed = runs.filter((run) => run.status === 'failed');
  failures.replaceChildren(...failed.map((run) => h('li', {}, `${run.label}: ${run.error ?? 'could not be measured.'}`)));
  failures.hidden = failed.length === 0;
  charts.draw(runs.filter((run): run is DrawnRun => run.status === 'done' && !!run.memory));
});
vscode.post({ type: 'ready' });

function showProgress(runs: MemoryPanelRun[]): void {
  const finished = runs.filter((run) => run.status === 'done' || run.status === 'failed').length;
  const measuring = runs.find((run) => run.status === 'measuring');
  progressBar.max = runs.length;
  progressBar.value = finished;
  progressBar.hidden = finished === runs.length;
  progressText.textContent = measuring
    ? `Measuring ${measuring.label} (${finished + 1} of ${runs.length}) on its held-out text…`
    : `${plural(runs.filter((run) => run.status === 'done').length, 'run')} measured on ${runs.length > 1 ? 'their' : 'its'} validation text.`;
}

function legendItem(run: MemoryPanelRun): HTMLElement {
  const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  swatch.style.setProperty('background-color', runColourVar(run.colourIndex));
  const memory = run.memory;
  // What the text was goes in the tooltip: the same long phrase for every run of a comparison.
  const about = memory
    ? `${cellName(memory.cell)}, ${memory.units} units${memory.layers > 1 ? ` × ${memory.layers} layers` : ''}, ${memory.tokens.toLocaleString('en')} held-out tokens`
    : run.status === 'failed'
      ? 'not measured'
      : run.status === 'measuring'
        ? 'measuring…'
        : 'waiting';
  const title = memory ? `Measured on ${memory.tokens.toLocaleString('en')} tokens of ${memory.text}` : undefined;
  return h('li', { 'data-testid': `memory-run-${run.runId}`, 'data-status': run.status, title }, swatch, h('span', { class: 'name' }, run.label), h('span', { class: 'about' }, about));
}
