/**
 * The Models view page: runs grouped by the text they were trained on, one table per text,
 * each headed by that text's counting baselines, so a person sees at a glance whether a
 * network beats counting (the Kneser-Ney trigram, KN3). Rows can be ticked to overlay their curves in the dashboard;
 * buttons use, stop or delete a run (the extension asks before deleting). The side bar is
 * narrow, so the columns a person compares come first and each table scrolls sideways;
 * under it, what suggests for each run (src/webviews/suggestionSummary.ts) wraps instead.
 */
import {
  cellName,
  clockTime,
  formatCount,
  formatDuration,
  formatNumber,
  formatPercent,
  hasModel,
  isActiveState,
  runLabel,
  sizeLabel,
  STATE_LABELS,
} from '../protocol/format';
import type { Baselines } from '../protocol/types';
import type { RunInfo } from '../protocol/lsp';
import { isHostToModels, type HostToModels, type ModelsToHost } from '../protocol/webview';
import { byId, h } from './dom';
import { suggestionList } from './suggestionSummary';
import { runColourVar } from './theme';
import { channel, onMessage } from './vscodeApi';

const vscode = channel<ModelsToHost, never>();
const groupsBox = byId('groups');
const empty = byId('empty');
const suggestionsOff = byId('suggestions-off');
let selected: string[] = [];

byId('train').addEventListener('click', () => vscode.post({ type: 'trainModel' }));
onMessage(isHostToModels, render);
vscode.post({ type: 'ready' });

function render(message: HostToModels): void {
  selected = message.selected;
  // Rebuilding the rows drops focus; put it back on the same control.
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.testid;
  groupsBox.replaceChildren(
    ...[...groups(message.runs)].map(([corpus, runs], index) => groupSection(corpus, runs, message.activeRunId, index)),
  );
  empty.hidden = message.runs.length > 0;
  suggestionsOff.hidden = message.suggestionsEnabled;
  if (focused) groupsBox.querySelector<HTMLElement>(`[data-testid="${CSS.escape(focused)}"]`)?.focus();
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

/** Column headings; `title` explains the abbreviations on hover. */
const COLUMNS: { label: string; title?: string; hidden?: boolean }[] = [
  { label: 'Show in dashboard', hidden: true },
  { label: 'Model', title: 'cell and start time; ★ = gives the suggestions' },
  { label: 'Perplexity', title: 'validation perplexity = e^loss; lower is better; green = beats the KN3 baseline (a Kneser-Ney trigram of word counts)' },
  { label: 'Val acc', title: 'validation next-word accuracy' },
  { label: 'Nats/char', title: 'nats per character of the validation text, unknown words paying for their spelling; compares any vocabulary; lower is better' },
  { label: 'State' },
  { label: 'Actions', hidden: true },
  { label: 'Val loss', title: 'best validation loss (nats per word)' },
  { label: 'Epochs', title: 'epochs done / most epochs' },
  { label: 'Time', title: 'training time' },
  { label: 'Tokens/s', title: 'predicted words trained per second' },
  { label: 'Params', title: 'trainable parameters' },
  { label: 'Size', title: 'embedding · units × layers' },
];

function groupSection(corpus: string, runs: RunInfo[], activeRunId: string | null, index: number): HTMLElement {
  // The newest run's baselines: the same text gives the same counts.
  const baselines = runs.find((run) => run.baselines)?.baselines;
  const headingId = `corpus-${index}`;
  const head = h(
    'thead',
    {},
    h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col', title: c.title }, c.hidden ? h('span', { class: 'visually-hidden' }, c.label) : c.label))),
  );
  return h(
    'section',
    { class: 'group', 'aria-labelledby': headingId, 'data-corpus': corpus },
    h('h2', { id: headingId, class: 'corpus' }, corpus),
    h('p', { class: 'baselines', 'data-testid': `baselines-${corpus}` }, baselineText(baselines, runs)),
    h(
      'div',
      { class: 'table-box', role: 'region', tabindex: 0, 'aria-label': `Runs on ${corpus}, scrolls sideways` },
      h('table', { 'data-testid': 'models-table' }, head, h('tbody', {}, ...runs.map((run) => row(run, run.id === activeRunId, baselines)))),
    ),
    suggestionList(runs),
  );
}

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

function row(run: RunInfo, active: boolean, baselines: Baselines | undefined): HTMLTableRowElement {
  const label = runLabel(run);
  const colour = selected.indexOf(run.id);
  const checkbox = h('input', {
    type: 'checkbox',
    checked: colour >= 0,
    'data-testid': `select-${run.id}`,
    'aria-label': `Show ${label} in the dashboard`,
  });
  checkbox.addEventListener('change', () => {
    const runIds = checkbox.checked ? [...selected, run.id] : selected.filter((id) => id !== run.id);
    vscode.post({ type: 'select', runIds });
  });
  const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  if (colour >= 0) swatch.style.setProperty('background-color', runColourVar(colour));

  const model = h(
    'th',
    { scope: 'row', title: label },
    cellName(run.cell),
    h('span', { class: 'when' }, ` ${clockTime(run.createdAt)}`),
    active ? h('span', { class: 'active', 'data-testid': `active-${run.id}`, title: 'gives the suggestions' }, ' ★', h('span', { class: 'visually-hidden' }, ' active')) : null,
  );

  const state = h('td', { class: `state state-${run.state}`, title: run.error ?? undefined }, STATE_LABELS[run.state]);
  if (run.error) state.append(h('span', { class: 'visually-hidden' }, `: ${run.error}`));

  const kn3 = baselines?.kn3;
  const beats = run.valPerplexity != null && kn3 !== undefined && run.valPerplexity < kn3;
  return h(
    'tr',
    { 'data-testid': `run-row-${run.id}`, 'data-run-id': run.id, 'data-state': run.state, class: active ? 'is-active' : undefined },
    h('td', { class: 'select' }, checkbox, swatch),
    model,
    number(formatNumber(run.valPerplexity), kn3 !== undefined ? `KN3 baseline ${formatNumber(kn3)}` : undefined, beats ? 'beats-baseline' : undefined),
    number(formatPercent(run.valAccuracy)),
    number(
      formatNumber(run.natsPerChar),
      baselines?.kn3NatsPerChar != null ? `KN3 baseline ${formatNumber(baselines.kn3NatsPerChar)}` : undefined,
    ),
    state,
    h('td', { class: 'actions' }, ...actions(run, label, active)),
    number(formatNumber(run.bestValLoss)),
    number(`${run.epochsDone}/${run.config.epochs}`),
    number(formatDuration(run.seconds)),
    number(formatCount(run.tokensPerSecond)),
    number(formatCount(run.params)),
    h('td', { title: `embedding ${run.config.embedding}, ${run.config.units} units, ${run.config.layers} layer(s)` }, sizeLabel(run)),
  );
}

function number(text: string, title?: string, extraClass?: string): HTMLTableCellElement {
  return h('td', { class: `number${extraClass ? ` ${extraClass}` : ''}`, title }, text);
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
    button('Delete', 'delete', `Delete ${label}`, { type: 'deleteRun', runId: run.id }),
  ];
}
