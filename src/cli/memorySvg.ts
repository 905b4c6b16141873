/**
 * Memory through time as a plain SVG of two panels, runs overlaid in the same colours:
 * left, the gradient norm against the lag k on a log axis (a line per run, its 10–90%
 * band shaded); right, the held-out loss against the tokens of context on a doubling axis,
 * with each run's full-context loss as a dashed line. No fonts or scripts beyond the
 * viewer's sans-serif.
 */
import { cellName } from '../protocol/format';
import type { MemoryRun } from '../protocol/memory';

const WIDTH = 960;
const HEIGHT = 420;
const PANEL = { width: 370, height: 270, top: 78 };
const LEFT_PANEL_X = 80;
const RIGHT_PANEL_X = 570;
/** Distinct on white and in grey print: blue, orange, green, then more. */
const COLOURS = ['#1f77b4', '#d95f02', '#1b9e77', '#7570b3', '#e7298a', '#66a61e'];

interface Axis {
  /** Data value → pixel. */
  at(value: number): number;
  ticks: { value: number; label: string }[];
}

export function memorySvg(runs: MemoryRun[]): string {
  const colour = (i: number) => COLOURS[i % COLOURS.length];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    legend(runs, colour),
    gradientPanel(runs, colour),
    contextPanel(runs, colour),
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

function legend(runs: MemoryRun[], colour: (i: number) => string): string {
  let x = LEFT_PANEL_X;
  const items = runs.map((run, i) => {
    const at = x;
    // About 7 px a character at 12 px sans-serif, then a gap.
    x += 30 + run.label.length * 7 + 28;
    return (
      `<line x1="${at}" y1="20" x2="${at + 24}" y2="20" stroke="${colour(i)}" stroke-width="2.5"/>` +
      `<text x="${at + 30}" y="24">${escape(run.label)}</text>`
    );
  });
  return `<g>${items.join('')}</g>`;
}

function gradientPanel(runs: MemoryRun[], colour: (i: number) => string): string {
  const lags = runs[0]?.gradient.lags ?? [1];
  const maxLag = Math.max(...lags);
  const x = linearAxis(1, maxLag, LEFT_PANEL_X, LEFT_PANEL_X + PANEL.width, lagTicks(maxLag));
  const values = runs.flatMap((run) => [...run.gradient.p10, ...run.gradient.p90, ...run.gradient.geometricMean]).filter((v) => v > 0);
  const y = logAxis(Math.min(...values), Math.max(...values), PANEL.top + PANEL.height, PANEL.top);
  const series = runs.map((run, i) => {
    const { lags: ks, p10, p90, geometricMean } = run.gradient;
    const band = [...ks.map((k, j) => point(x, y, k, p90[j])), ...ks.map((k, j) => point(x, y, k, p10[j])).reverse()];
    return (
      `<polygon points="${band.join(' ')}" fill="${colour(i)}" fill-opacity="0.12" stroke="none"/>` +
      `<polyline points="${ks.map((k, j) => point(x, y, k, geometricMean[j])).join(' ')}" fill="none" stroke="${colour(i)}" stroke-width="2"/>`
    );
  });
  return panel({
    left: LEFT_PANEL_X,
    title: 'Gradient through time: ‖dL_t / dh_(t−k)‖',
    xLabel: 'k (steps back)',
    yLabel: 'gradient norm (geometric mean; band 10–90%)',
    x,
    y,
    body: series.join(''),
  });
}

function contextPanel(runs: MemoryRun[], colour: (i: number) => string): string {
  const contexts = runs[0]?.context.contexts ?? [1];
  const x = doublingAxis(contexts, RIGHT_PANEL_X, RIGHT_PANEL_X + PANEL.width);
  const values = runs.flatMap((run) => [...run.context.loss, run.context.fullContextLoss]);
  const y = linearAxis(Math.min(...values), Math.max(...values), PANEL.top + PANEL.height, PANEL.top, undefined, true);
  const series = runs.map((run, i) => {
    const { contexts: ns, loss, fullContextLoss } = run.context;
    const full = y.at(fullContextLoss).toFixed(1);
    return (
      `<line x1="${RIGHT_PANEL_X}" y1="${full}" x2="${RIGHT_PANEL_X + PANEL.width}" y2="${full}" stroke="${colour(i)}" stroke-width="1.5" stroke-dasharray="6 4"/>` +
      `<polyline points="${ns.map((n, j) => point(x, y, n, loss[j])).join(' ')}" fill="none" stroke="${colour(i)}" stroke-width="2"/>` +
      ns.map((n, j) => `<circle cx="${x.at(n).toFixed(1)}" cy="${y.at(loss[j]).toFixed(1)}" r="3" fill="${colour(i)}"/>`).join('')
    );
  });
  return panel({
    left: RIGHT_PANEL_X,
    title: 'Held-out loss by tokens of context',
    xLabel: 'tokens of context (from a zero state)',
    yLabel: 'loss (nats per token; dashed: all text read)',
    x,
    y,
    body: series.join(''),
  });
}

function panel(p: { left: number; title: string; xLabel: string; yLabel: string; x: Axis; y: Axis; body: string }): string {
  const bottom = PANEL.top + PANEL.height;
  const right = p.left + PANEL.width;
  const xTicks = p.x.ticks.map(
    (t) => `<line x1="${p.x.at(t.value).toFixed(1)}" y1="${bottom}" x2="${p.x.at(t.value).toFixed(1)}" y2="${bottom + 5}" stroke="#444"/>` +
      `<text x="${p.x.at(t.value).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${t.label}</text>`,
  );
  const yTicks = p.y.ticks.map(
    (t) => `<line x1="${p.left}" y1="${p.y.at(t.value).toFixed(1)}" x2="${right}" y2="${p.y.at(t.value).toFixed(1)}" stroke="#e4e4e4"/>` +
      `<text x="${p.left - 6}" y="${(p.y.at(t.value) + 4).toFixed(1)}" text-anchor="end">${t.label}</text>`,
  );
  const middleY = PANEL.top + PANEL.height / 2;
  return [
    '<g>',
    `<text x="${p.left}" y="${PANEL.top - 14}" font-size="14" font-weight="bold">${escape(p.title)}</text>`,
    ...yTicks,
    `<rect x="${p.left}" y="${PANEL.top}" width="${PANEL.width}" height="${PANEL.height}" fill="none" stroke="#444"/>`,
    ...xTicks,
    p.body,
    `<text x="${p.left + PANEL.width / 2}" y="${bottom + 38}" text-anchor="middle">${escape(p.xLabel)}</text>`,
    `<text transform="translate(${p.left - 56} ${middleY}) rotate(-90)" text-anchor="middle">${escape(p.yLabel)}</text>`,
    '</g>',
  ].join('\n');
}

function point(x: Axis, y: Axis, a: number, b: number): string {
  return `${x.at(a).toFixed(1)},${y.at(b).toFixed(1)}`;
}

/** A linear axis over [min, max] (padded by 5% when `pad`), ticks at round steps unless given. */
function linearAxis(min: number, max: number, from: number, to: number, ticks?: number[], pad = false): Axis {
  if (pad) {
    const margin = Math.max((max - min) * 0.05, 0.05);
    [min, max] = [min - margin, max + margin];
  }
  const span = max - min || 1;
  const at = (v: number) => from + ((v - min) / span) * (to - from);
  const step = niceStep(span / 5);
  const values = ticks ?? Array.from({ length: Math.floor(max / step) - Math.ceil(min / step) + 1 }, (_, i) => (Math.ceil(min / step) + i) * step);
  return { at, ticks: values.map((value) => ({ value, label: formatNumber(value) })) };
}

/** A log axis over whole decades around [min, max], a tick per decade. */
function logAxis(min: number, max: number, from: number, to: number): Axis {
  const low = Math.floor(Math.log10(min));
  const high = Math.max(Math.ceil(Math.log10(max)), low + 1);
  const at = (v: number) => from + ((Math.log10(Math.max(v, 10 ** low)) - low) / (high - low)) * (to - from);
  const every = Math.ceil((high - low) / 8);
  const ticks = Array.from({ length: high - low + 1 }, (_, i) => low + i)
    .filter((e) => (e - low) % every === 0)
    .map((e) => ({ value: 10 ** e, label: `1e${e}` }));
  return { at, ticks };
}

/** Contexts 1, 2, 4 … evenly spaced (a log₂ axis), a tick at each. */
function doublingAxis(contexts: number[], from: number, to: number): Axis {
  const low = Math.log2(Math.min(...contexts));
  const high = Math.log2(Math.max(...contexts));
  const margin = 0.3;
  const at = (v: number) => from + ((Math.log2(v) - low + margin) / (high - low + 2 * margin || 1)) * (to - from);
  return { at, ticks: contexts.map((value) => ({ value, label: String(value) })) };
}

function lagTicks(maxLag: number): number[] {
  const step = maxLag > 16 ? 8 * Math.ceil(maxLag / 64) : 1;
  return [1, ...Array.from({ length: Math.floor(maxLag / step) }, (_, i) => (i + 1) * step).filter((k) => k > 1)];
}

function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const scaled = rough / power;
  return (scaled < 1.5 ? 1 : scaled < 3.5 ? 2 : scaled < 7.5 ? 5 : 10) * power;
}

function formatNumber(value: number): string {
  return Number(value.toPrecision(6)).toString();
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** How memory.json and the chart name a run: its cell, and its folder when two runs share a cell. */
export function memoryRunLabels(runs: { cell: MemoryRun['cell']; run: string }[]): string[] {
  return runs.map((run) => {
    const shared = runs.filter((other) => other.cell === run.cell).length > 1;
    return shared ? `${cellName(run.cell)} ${run.run}` : cellName(run.cell);
  });
}
