/**
 * The cell inspector page: the inspected text with each token's background showing one
 * unit's value (or one gate's) there, a picker for the signal and the unit, and for each
 * text feature the units that follow it best (a click shows that unit). The colours are
 * two theme colours mixed into the background by strength, so they follow every theme;
 * high-contrast themes also get a solid underline on the strongest tokens. The page keeps
 * its picks and what was inspected in its state; the data comes from the extension.
 */
import {
  CELL_SIGNALS,
  FEATURE_LABELS,
  heat,
  heatScale,
  isHostToCells,
  SIGNAL_LABELS,
  TEXT_FEATURES,
  unitValues,
  type CellInspection,
  type CellSignal,
  type CellsRequest,
  type CellsToHost,
  type CellsViewState,
  type HostToCells,
} from '../protocol/cells';
import { byId, h } from './dom';
import { isHighContrast, onThemeChange } from './theme';
import { channel, onMessage } from './vscodeApi';

/** Past this strength a token's colour is mixed no further, so its text stays readable. */
const MAX_MIX = { normal: 0.7, highContrast: 0.5 };
/** Strength above which high-contrast themes underline a token as well. */
const UNDERLINE_AT = 0.5;
/** Units listed per feature in the table (the engine ranks five). */
const LISTED = 5;

const vscode = channel<CellsToHost, CellsViewState>();
const saved = (vscode.getState() as CellsViewState | undefined) ?? {};
let signal: CellSignal = saved.signal ?? 'h';
let unit = saved.unit ?? 0;
let request: CellsRequest | undefined = saved.request;
let inspection: CellInspection | undefined;
/** The token elements of the heat map, in token order (line breaks have none). */
let tokenElements: (HTMLElement | undefined)[] = [];

const summary = byId('summary');
const errorBox = byId('error');
const signalPicker = byId<HTMLSelectElement>('signal');
const unitInput = byId<HTMLInputElement>('unit');
const heatmap = byId('heatmap');
const legend = byId('legend');
const ranking = byId<HTMLTableElement>('ranking');
const rankingNote = byId('ranking-note');

signalPicker.addEventListener('change', () => choose(signalPicker.value as CellSignal, unit));
unitInput.addEventListener('change', () => choose(signal, Number(unitInput.value)));
byId('unit-previous').addEventListener('click', () => choose(signal, unit - 1));
byId('unit-next').addEventListener('click', () => choose(signal, unit + 1));
onThemeChange(() => paint());

onMessage(isHostToCells, (message: HostToCells) => {
  if (message.type === 'error') {
    errorBox.textContent = message.message;
    errorBox.hidden = false;
    return;
  }
  errorBox.hidden = true;
  inspection = message.inspection;
  request = message.request;
  if (!CELL_SIGNALS[inspection.cell].includes(signal)) signal = 'h';
  build();
  choose(signal, unit < inspection.units ? unit : 0);
});
vscode.post({ type: 'ready' });

/** Shows `nextUnit` of `nextSignal` (kept within the layer's units) and remembers the pick. */
function choose(nextSignal: CellSignal, nextUnit: number): void {
  if (!inspection) return;
  signal = nextSignal;
  unit = Number.isInteger(nextUnit) ? Math.min(inspection.units - 1, Math.max(0, nextUnit)) : unit;
  signalPicker.value = signal;
  unitInput.value = String(unit);
  vscode.setState({ signal, unit, request });
  paint();
  drawRanking();
}

/** Everything that depends on the inspection only: the summary, the pickers' options, the words. */
function build(): void {
  const { cell, units, layer, layers, tokens, contextTokens, text } = inspection!;
  summary.textContent =
    `${request?.label ?? cell.toUpperCase()} · ${units} units${layers > 1 ? ` · layer ${layer + 1} of ${layers}` : ''} · ` +
    `${tokens.length} tokens of ${request?.source ?? 'the document'}` +
    (contextTokens > 0 ? `, read after the ${contextTokens} before them` : '');
  signalPicker.replaceChildren(...CELL_SIGNALS[cell].map((s) => h('option', { value: s }, SIGNAL_LABELS[s])));
  unitInput.max = String(units - 1);
  tokenElements = [];
  const parts: Node[] = [];
  let end = 0;
  tokens.forEach((token, t) => {
    // The text between tokens as written (spaces, line breaks), so the words read as the document does.
    if (token.start > end) parts.push(document.createTextNode(text.slice(end, token.start)));
    if (token.token === '\n') {
      parts.push(document.createTextNode(text.slice(token.start, token.end)));
      tokenElements.push(undefined);
    } else {
      const element = h('span', { class: 'token', 'data-token': t }, text.slice(token.start, token.end));
      tokenElements.push(element);
      parts.push(element);
    }
    end = Math.max(end, token.end);
  });
  if (end < text.length) parts.push(document.createTextNode(text.slice(end)));
  heatmap.replaceChildren(...parts);
}

/** Colours the words by the chosen unit's values, and draws the legend for its scale. */
function paint(): void {
  if (!inspection) return;
  const values = unitValues(inspection, signal, unit);
  const scale = heatScale(signal, values);
  const contrast = isHighContrast();
  const maxMix = contrast ? MAX_MIX.highContrast : MAX_MIX.normal;
  tokenElements.forEach((element, t) => {
    if (!element) return;
    const strength = heat(values[t], scale);
    const side = strength < 0 ? 'below' : 'above';
    element.style.backgroundColor = `color-mix(in srgb, var(--seqlab-heat-${side}) ${(Math.abs(strength) * maxMix * 100).toFixed(1)}%, transparent)`;
    element.classList.toggle('strong', contrast && Math.abs(strength) >= UNDERLINE_AT);
    element.classList.toggle('below', strength < 0);
    element.title = `${inspection!.tokens[t].token}: ${SIGNAL_LABELS[signal]} of unit ${unit} = ${values[t].toFixed(3)}`;
  });
  heatmap.setAttribute('aria-label', `The text coloured by unit ${unit}'s ${SIGNAL_LABELS[signal]}`);
  const format = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
  legend.replaceChildren(
    h('span', { class: 'legend-value' }, format(scale.centre - scale.halfRange)),
    h('span', { class: 'legend-bar', role: 'img', 'aria-label': `from ${format(scale.centre - scale.halfRange)} to ${format(scale.centre + scale.halfRange)}` }),
    h('span', { class: 'legend-value' }, format(scale.centre + scale.halfRange)),
  );
}

/** For each feature, the units of the chosen signal that follow it best, as buttons. */
function drawRanking(): void {
  const { rankedOn } = inspection!;
  const bySignal = inspection!.ranking[signal];
  rankingNote.textContent =
    rankedOn.tokens > 0
      ? `Pearson r between each unit's ${SIGNAL_LABELS[signal]} and the feature over ${rankedOn.tokens.toLocaleString('en')} tokens of ${rankedOn.description}. Click a unit to show it.`
      : `There was too little text to rank the units on (${rankedOn.description}).`;
  const rows = TEXT_FEATURES.map((feature) => {
    const top = bySignal?.[feature]?.slice(0, LISTED) ?? [];
    const cells = top.map((c) =>
      h(
        'button',
        {
          type: 'button',
          class: c.unit === unit ? 'unit-choice chosen' : 'unit-choice',
          title: `Show unit ${c.unit} (r = ${c.r.toFixed(3)})`,
          'data-testid': 'cells-unit-choice',
        },
        h('span', { class: 'unit-number' }, String(c.unit)),
        ` ${c.r >= 0 ? '+' : '−'}${Math.abs(c.r).toFixed(2)}`,
      ),
    );
    cells.forEach((button, i) => button.addEventListener('click', () => choose(signal, top[i].unit)));
    return h('tr', {}, h('th', { scope: 'row' }, FEATURE_LABELS[feature]), h('td', {}, ...(cells.length > 0 ? cells : [h('span', { class: 'note' }, 'does not vary in this text')])));
  });
  ranking.replaceChildren(h('tbody', {}, ...rows));
}
