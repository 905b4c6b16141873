/**
 * The Models view page: runs grouped by the text they were trained on, each group headed
 * by that text's counting baselines, so a person sees at a glance whether a network beats
 * counting (the Kneser-Ney trigram, KN3). One card per run, since the side bar is 300 px
 * by default and a table of a dozen columns hid the state and the buttons off to the
 * side: the figures wrap into as many columns as fit, the buttons sit under them. A card
 * can be ticked to overlay the run's curves in the dashboard; buttons use, stop or delete
 * a run (the extension asks before deleting). While a run trains its card shows the
 * latest batch's figures. Under the cards, what suggests for each run
 * (src/webviews/suggestionSummary.ts).
 */
import { formatCount, formatDuration, formatNumber, formatPercent, hasModel, isActiveState, sizeLabel, STATE_LABELS } from '../protocol/format';
import type { Baselines } from '../protocol/types';
import type { RunInfo } from '../protocol/lsp';
import { isHostToModels, type HostToModels, type ModelsToHost, type RunLabels } from '../protocol/webview';
import { byId, h } from './dom';
import { liveLine, LiveRuns } from './liveFigures';
import { costLines } from './costSummary';
import { reproductionNote } from './reproduction';
import { suggestionList } from './suggestionSummary';
import { runColourVar } from './theme';
import { channel, onMessage } from './vscodeApi';

const vscode = channel<ModelsToHost, never>();
const READY_RETRY_MS = 1000;
const READY_ATTEMPTS = 30;
const groupsBox = byId('groups');
const empty = byId('empty');
const suggestionsOff = byId('suggestions-off');
const live = new LiveRuns();
let selected: string[] = [];
let runsById = new Map<string, RunInfo>();
let livePending = new Set<string>();

byId('train').addEventListener('click', () => vscode.post({ type: 'trainModel' }));
let rendered = false;
onMessage(isHostToModels, (message) => {
  if (message.type === 'update') {
    render(message);
    rendered = true;
  } else if (live.apply(message.progress)) scheduleLive(message.progress.runId);
});
sayReady();

/**
 * Asks for the runs until they come: right after a window reload the host can miss the
 * first "ready" while it restores its views, and the view would stay blank.
 */
function sayReady(attempt = 0): void {
  if (rendered || attempt >= READY_ATTEMPTS) return;
  vscode.post({ type: 'ready' });
  setTimeout(() => sayReady(attempt + 1), READY_RETRY_MS);
}

function render(message: Extract<HostToModels, { type: 'update' }>): void {
  selected = message.selected;
  runsById = new Map(message.runs.map((run) => [run.id, run]));
  // Rebuilding the cards drops focus; put it back on the same control.
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.testid;
  groupsBox.replaceChildren(
    ...[...groups(message.runs)].map(([corpus, runs], index) => groupSection(corpus, runs, message.labels, message.activeRunId, index)),
  );
  empty.hidden = message.runs.length > 0;
  suggestionsOff.hidden = message.suggestionsEnabled;
  if (focused) groupsBox.querySelector<HTMLElement>(`[data-testid="${CSS.escape(focused)}"]`)?.focus();
}

/** Progress comes about ten times a second per run: only the live line changes, once per frame. */
function scheduleLive(runId: string): void {
  if (livePending.size === 0) {
    requestAnimationFrame(() => {
      for (const id of livePending) {
        const run = runsById.get(id);
        const line = groupsBox.querySelector(`[data-testid="live-${CSS.escape(id)}"]`);
        if (run && line) line.textContent = liveLine(run, live.get(id));
      }
      livePending = new Set();
    });
  }
  livePending.add(runId);
}

const CELL_ORDER = ['rnn', 'gru', 'lstm'];

/** Runs by corpus, newest group first, newest run first within a group, a comparison's runs in cell order. */
function groups(runs: RunInfo[]): Map<string, RunInfo[]> {
  const sorted = [...runs].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt) || CELL_ORDER.indexOf(a.cell) - CELL_ORDER.indexOf(b.cell),
  );
  const byCorpus = new Map<string, RunInfo[]>();
  for (const run of sorted) byCorpus.set(run.corpusName, [...(byCorpus.get(run.corpusName) ?? []), run]);
  return byCorpus;
}

function groupSection(corpus: string, runs: RunInfo[], labels: RunLabels, activeRunId: string | null, index: number): HTMLElement {
  // The newest run's baselines: the same text gives the same counts.
  const baselines = runs.find((run) => run.baselines)?.baselines;
  const headingId = `corpus-${index}`;
  return h(
    'section',
    { class: 'group', 'aria-labelledby': headingId, 'data-corpus': corpus },
    h('h2', { id: headingId, class: 'corpus' }, corpus),
    h('p', { class: 'baselines', 'data-testid': `baselines-${corpus}` }, baselineText(baselines, runs)),
    ...costLines(runs, labels).map((line) => h('p', { class: 'baselines', 'data-testid': 'costs', title: COSTS_EXPLAINED }, line)),
    h(
      'ul',
      { class: 'cards', 'data-testid': 'models-cards', 'aria-label': `Runs on ${corpus}` },
      ...runs.map((run) => {
        const original = run.reproduces ? runsById.get(run.reproduces) : undefined;
        const note = reproductionNote(run, original, original ? (labels[original.id] ?? original.id) : '');
        return card(run, labels[run.id] ?? run.id, run.id === activeRunId, baselines, note);
      }),
    ),
    suggestionList(runs, labels),
  );
}

const COSTS_EXPLAINED =
  'What each cell costs: a recurrent layer has one set of input, recurrent and bias weights per gate block (SimpleRNN 1, GRU 3, LSTM 4), ' +
  'so their weights and arithmetic stand 1 : 3 : 4; the time per token is what each run took in training.';

function baselineText(baselines: Baselines | undefined, runs: RunInfo[]): string {
  if (!baselines) {
    return runs.some((run) => isActiveState(run.state)) ? 'Baselines: when training starts' : 'Baselines: not recorded by the SeqLab that trained these runs';
  }
  const perChar = baselines.kn3NatsPerChar === null ? '' : ` (${formatNumber(baselines.kn3NatsPerChar)} nats/char)`;
  return (
    `Baselines: KN3 ${formatNumber(baselines.kn3)}${perChar} · unigram ${formatNumber(baselines.unigram)} · ` +
    `uniform ${formatCount(baselines.uniform)} perplexity; ${formatPercent(baselines.unknownShare)} of the validation words are unknown`
  );
}

interface Figure {
  name: string;
  /** Explains the abbreviation on hover. */
  title: string;
  value: string;
  /** The KN3 baseline beside the run's figure, and whether the run beats it (lower is better). */
  kn3?: { value: number | null | undefined; beats: boolean };
}

function card(run: RunInfo, label: string, active: boolean, baselines: Baselines | undefined, reproduction: string | null): HTMLLIElement {
  const colour = selected.indexOf(run.id);
  const training = isActiveState(run.state);
  const checkbox = h('input', {
    type: 'checkbox',
    checked: colour >= 0,
    'data-testid': `select-${run.id}`,
    'aria-label': `Show ${label} in the dashboard`,
    title: 'Show in the dashboard',
  });
  checkbox.addEventListener('change', () => {
    const runIds = checkbox.checked ? [...selected, run.id] : selected.filter((id) => id !== run.id);
    vscode.post({ type: 'select', runIds });
  });
  const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  if (colour >= 0) swatch.style.setProperty('background-color', runColourVar(colour));

  const state = h(
    'span',
    { class: `state state-${run.state}`, 'data-testid': `state-${run.id}`, title: run.error ?? run.interruption ?? undefined },
    run.interruption && run.state === 'stopped' ? 'interrupted' : STATE_LABELS[run.state],
  );
  const lower = (value: number | null | undefined, than: number | null | undefined) => value != null && than != null && value < than;
  const figures: Figure[] = [
    {
      name: 'Perplexity',
      title: 'validation perplexity = e^loss; lower is better; green = beats the KN3 baseline (a Kneser-Ney trigram of word counts)',
      value: formatNumber(run.valPerplexity),
      kn3: { value: baselines?.kn3, beats: lower(run.valPerplexity, baselines?.kn3) },
    },
    { name: 'Val acc', title: 'validation next-word accuracy', value: formatPercent(run.valAccuracy) },
    {
      name: 'Nats/char',
      title: 'nats per character of the validation text, unknown words paying for their spelling; compares any vocabulary; lower is better',
      value: formatNumber(run.natsPerChar),
      kn3: { value: baselines?.kn3NatsPerChar, beats: lower(run.natsPerChar, baselines?.kn3NatsPerChar) },
    },
    { name: 'Val loss', title: 'best validation loss (nats per word)', value: formatNumber(run.bestValLoss) },
    {
      name: 'Tokens/s',
      title: 'predicted words trained per second',
      // While training, the latest batch's pace; the registry has it only after each epoch.
      value: formatCount((training ? live.get(run.id).latest?.tokensPerSecond : undefined) ?? run.tokensPerSecond),
    },
    { name: 'Epochs', title: 'epochs done / most epochs', value: `${run.epochsDone}/${run.config.epochs}` },
  ];
  const details = [
    formatDuration(run.seconds),
    run.params !== undefined ? `${formatCount(run.params)} params` : '',
    `size ${sizeLabel(run)}`,
  ].filter((part) => part && part !== '–');

  return h(
    'li',
    {
      class: `card${active ? ' is-active' : ''}`,
      'data-testid': `run-row-${run.id}`,
      'data-run-id': run.id,
      'data-state': run.state,
      'aria-label': label,
    },
    h(
      'div',
      { class: 'card-head' },
      h('label', { class: 'pick' }, checkbox, swatch, h('span', { class: 'name', 'data-testid': `name-${run.id}` }, label)),
      active ? h('span', { class: 'active', 'data-testid': `active-${run.id}`, title: 'gives the suggestions' }, '★', h('span', { class: 'visually-hidden' }, ' active')) : null,
      state,
    ),
    h('dl', { class: 'figures' }, ...figures.map(figure)),
    training ? h('p', { class: 'live', 'data-testid': `live-${run.id}`, 'aria-live': 'off' }, liveLine(run, live.get(run.id))) : null,
    run.error ? h('p', { class: 'error', 'data-testid': `error-${run.id}` }, run.error) : null,
    run.interruption ? h('p', { class: 'note', 'data-testid': `interruption-${run.id}` }, run.interruption) : null,
    reproduction ? h('p', { class: 'note', 'data-testid': `reproduces-${run.id}` }, reproduction) : null,
    h(
      'div',
      { class: 'card-foot' },
      h('span', { class: 'details', title: 'training time · trainable parameters · embedding · units × layers' }, details.join(' · ')),
      h('span', { class: 'actions' }, ...actions(run, label, active)),
    ),
  );
}

function figure({ name, title, value, kn3 }: Figure): HTMLElement {
  const baseline =
    kn3 && kn3.value != null
      ? h('span', { class: 'kn3' }, ` KN3 ${formatNumber(kn3.value)}`, kn3.beats ? h('span', { class: 'visually-hidden' }, ', beaten') : null)
      : null;
  return h('div', { title }, h('dt', {}, name), h('dd', { class: kn3?.beats ? 'beats-baseline' : undefined }, value, baseline));
}

function actions(run: RunInfo, label: string, active: boolean): HTMLButtonElement[] {
  const button = (text: string, testid: string, aria: string, message: ModelsToHost, disabled = false) => {
    const element = h('button', { type: 'button', 'data-testid': `${testid}-${run.id}`, 'aria-label': aria, title: aria, disabled }, text);
    element.addEventListener('click', () => vscode.post(message));
    return element;
  };
  return [
    button('Use', 'use', active ? `${label} gives the suggestions` : `Use ${label} for suggestions`, { type: 'useModel', runId: run.id }, !hasModel(run) || active),
    ...(isActiveState(run.state) ? [button('Stop', 'stop', `Stop training ${label}`, { type: 'stopRun', runId: run.id })] : []),
    ...(run.resumable ? [button('Resume', 'resume', `Go on training ${label} from its last epoch`, { type: 'resumeRun', runId: run.id })] : []),
    button('Delete', 'delete', `Delete ${label}`, { type: 'deleteRun', runId: run.id }),
  ];
}
