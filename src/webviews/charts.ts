/**
 * The two dashboard charts (loss and accuracy). Each run draws its lines in its colour:
 * training per batch (thin; with smoothing on, the smoothed line over a faint raw one),
 * training per epoch (solid) and validation per epoch (dashed). The controls
 * (./controls) choose the x axis, the smoothing, a log y scale, scaling that ignores
 * outliers and the x range dragged out with the mouse; both charts share them. The
 * datasets are rebuilt from the runs' points at each redraw, at most once per animation
 * frame, so every control applies to all the points at once.
 */
import {
  Chart,
  Interaction,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type InteractionItem,
  type InteractionModeFunction,
  type ScaleOptionsByType,
  type Tick,
} from 'chart.js';
import { formatDuration, formatNumber, formatPercent } from '../protocol/format';
import type { BatchPoint } from '../protocol/lsp';
import type { EpochMetrics } from '../protocol/types';
import type { ChartControls } from './controls';
import { STILL_CHART, useChartTheme } from './chartSetup';
import { tickLabels, yRange, type Range } from './scaling';
import { smooth, type XY } from './smoothing';
import { chartTheme, runColour, withAlpha, type ChartTheme } from './theme';
import { nearestIndex, X_TITLES, xOf, type Clock, type XMode } from './xAxis';

declare module 'chart.js' {
  interface InteractionModeMap {
    eachRun: InteractionModeFunction;
  }
}

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip);

/** What the charts need of one run. The arrays are the dashboard's, read at each redraw. */
export interface ChartRun {
  label: string;
  colourIndex: number;
  /** Per-batch points in step order. */
  batches: BatchPoint[];
  /** Per-epoch figures in epoch order. */
  epochs: EpochMetrics[];
  batchesPerEpoch: number;
  clock: Clock;
}

type Metric = 'loss' | 'accuracy';
type Role = 'raw' | 'batch' | 'epoch' | 'validation';

const ROLE_NAMES: Record<Role, string> = { raw: 'per batch, raw', batch: 'per batch', epoch: 'per epoch', validation: 'validation' };

interface MetricFormat {
  /** A tick label with `decimals` decimals of the value (fractions for accuracy). */
  tick(value: number, decimals: number): string;
  /** A value in a tooltip. */
  value(value: number): string;
  /** Reads the metric off a batch point or an epoch's training and validation figures. */
  batch(point: BatchPoint): number;
  epoch(epoch: EpochMetrics): number;
  validation(epoch: EpochMetrics): number | null;
}

const METRICS: Record<Metric, MetricFormat> = {
  loss: {
    tick: (v, d) => v.toFixed(d),
    value: (v) => formatNumber(v, 4),
    batch: (p) => p.loss,
    epoch: (e) => e.loss,
    validation: (e) => e.valLoss,
  },
  accuracy: {
    // A tick step of 0.005 needs 3 decimals as a fraction, 1 as a percentage.
    tick: (v, d) => `${(v * 100).toFixed(Math.max(0, d - 2))}%`,
    value: (v) => formatPercent(v),
    batch: (p) => p.accuracy,
    epoch: (e) => e.accuracy,
    validation: (e) => e.valAccuracy,
  },
};

/** x in a tooltip's title and on the axis. */
function xText(mode: XMode, value: number, decimals?: number): string {
  switch (mode) {
    case 'step':
      return decimals === undefined ? `step ${Math.round(value)}` : value.toFixed(decimals);
    case 'epoch':
      return decimals === undefined ? `epoch ${formatNumber(value, 3)}` : value.toFixed(decimals);
    case 'time':
      // Whole seconds read as durations; below a minute, ticks a fraction of a second apart keep their decimals.
      return value >= 60 || decimals === undefined ? formatDuration(value) : `${value.toFixed(decimals)}s`;
  }
}

/** How close (in pixels) the pointer must be to a line's nearest point for the tooltip to list it. */
const HOVER_PIXELS = 48;

/**
 * The tooltip lists every line's point nearest to the pointer's x, so all shown runs can
 * be read off at once; chart.js's own modes give one point, or points at the same index.
 */
Interaction.modes.eachRun = (chart, event) => {
  const area = chart.chartArea;
  const xScale = chart.scales.x;
  const pixel = event.x;
  if (!area || !xScale || pixel === null || pixel < area.left || pixel > area.right) return [];
  const pointerX = xScale.getValueForPixel(pixel);
  if (pointerX === undefined) return [];
  const items: InteractionItem[] = [];
  chart.data.datasets.forEach((dataset, datasetIndex) => {
    const role = (dataset as { role?: Role }).role;
    if (role === 'raw' || !chart.isDatasetVisible(datasetIndex)) return;
    const points = dataset.data as XY[];
    const index = nearestIndex(points, pointerX, (p) => p.x);
    if (index < 0 || Math.abs(xScale.getPixelForValue(points[index].x) - pixel) > HOVER_PIXELS) return;
    const element = chart.getDatasetMeta(datasetIndex).data[index];
    if (element) items.push({ element, datasetIndex, index });
  });
  return items;
};

type LineDataset = ChartDataset<'line', XY[]> & { role: Role; run: number };

export class Charts {
  private readonly charts: Record<Metric, Chart<'line', XY[]>>;
  private runs: ChartRun[] = [];
  private controls: ChartControls;
  private theme: ChartTheme;
  private pending = false;

  /** `onZoom` gets the x range dragged out (null after a double click), to keep it with the other controls. */
  constructor(
    canvases: Record<Metric, HTMLCanvasElement>,
    controls: ChartControls,
    private readonly onZoom: (zoom: Range | null) => void,
  ) {
    this.controls = controls;
    this.theme = chartTheme();
    this.charts = { loss: this.create(canvases.loss, 'loss'), accuracy: this.create(canvases.accuracy, 'accuracy') };
  }

  /** Replaces the runs drawn. */
  setRuns(runs: ChartRun[]): void {
    this.runs = runs;
    this.redraw();
  }

  setControls(controls: ChartControls): void {
    this.controls = controls;
    this.redraw();
  }

  /** Redraws on the next animation frame, however many points or changes arrived meanwhile. */
  redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      for (const metric of ['loss', 'accuracy'] as const) this.draw(metric);
    });
  }

  /** Re-reads the theme colours after a theme change. */
  applyTheme(): void {
    this.theme = chartTheme();
    useChartTheme(this.theme);
    this.redraw();
  }

  private create(canvas: HTMLCanvasElement, metric: Metric): Chart<'line', XY[]> {
    useChartTheme(this.theme);
    const format = METRICS[metric];
    const chart = new Chart<'line', XY[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        ...STILL_CHART,
        normalized: true,
        interaction: { mode: 'eachRun', intersect: false },
        plugins: {
          tooltip: {
            callbacks: {
              title: (items) => (items[0] ? xText(this.controls.xMode, items[0].parsed.x ?? 0) : ''),
              label: (item) => {
                const dataset = item.dataset as LineDataset;
                const run = this.runs[dataset.run];
                let text = `${run?.label ?? ''} ${ROLE_NAMES[dataset.role]}: ${format.value(item.parsed.y ?? NaN)}`;
                if (dataset.role === 'batch' && this.controls.smoothing > 0) {
                  // The raw dataset is the one before, point for point.
                  const raw = chart.data.datasets[item.datasetIndex - 1]?.data[item.dataIndex] as XY | undefined;
                  if (raw) text += ` (raw ${format.value(raw.y)})`;
                }
                return text;
              },
            },
          },
        },
      },
    });
    this.enableDragZoom(chart);
    return chart;
  }

  private draw(metric: Metric): void {
    const chart = this.charts[metric];
    const { xMode, logY, ignoreOutliers, zoom } = this.controls;
    const datasets = this.runs.flatMap((run, index) => this.datasets(run, index, metric));
    chart.data.datasets = datasets;
    // The y range covers what is in view: the x range dragged out, or everything.
    const inView = datasets.flatMap((d) => d.data.filter((p) => !zoom || (p.x >= zoom.min && p.x <= zoom.max)).map((p) => p.y));
    const y = yRange(inView, { ignoreOutliers, log: logY });
    const theme = this.theme;
    const format = METRICS[metric];
    const grid = { color: theme.grid };
    const labels = (ticks: Tick[], index: number, text: (v: number, d: number) => string) =>
      tickLabels(ticks.map((t) => t.value), text)[index] ?? '';
    chart.options.scales = {
      x: {
        type: 'linear',
        min: zoom?.min,
        max: zoom?.max,
        title: { display: true, text: X_TITLES[xMode], color: theme.text },
        grid,
        ticks: { color: theme.text, maxTicksLimit: 8, callback: (_v, i, ticks) => labels(ticks, i, (v, d) => xText(xMode, v, d)) },
      },
      y: {
        type: logY ? 'logarithmic' : 'linear',
        min: y?.min,
        max: y?.max,
        grid,
        ticks: { color: theme.text, maxTicksLimit: 8, callback: (_v, i, ticks) => labels(ticks, i, format.tick) },
      } as ScaleOptionsByType<'linear' | 'logarithmic'>,
    };
    chart.update('none');
    // What is drawn, for the e2e tests (a canvas has no DOM to read): scale type, y tick labels, lines.
    Object.assign(chart.canvas.dataset, {
      yScale: chart.scales.y?.type ?? '',
      yTicks: (chart.scales.y?.ticks ?? []).map((t) => String(t.label ?? '')).join('|'),
      lines: String(datasets.length),
    });
  }

  private datasets(run: ChartRun, index: number, metric: Metric): LineDataset[] {
    const { xMode, smoothing } = this.controls;
    const format = METRICS[metric];
    const colour = runColour(run.colourIndex);
    const x = (step: number) => xOf(xMode, step, run.batchesPerEpoch, run.clock);
    const raw = run.batches.map((p) => ({ x: x(p.step), y: format.batch(p) }));
    const atEpoch = (value: (e: EpochMetrics) => number | null) =>
      run.epochs.flatMap((e) => {
        const y = value(e);
        return y === null || !Number.isFinite(y) ? [] : [{ x: x(e.epoch * run.batchesPerEpoch), y }];
      });
    const line = (role: Role, data: XY[], style: Partial<ChartDataset<'line', XY[]>>): LineDataset => ({
      label: `${run.label} · ${ROLE_NAMES[role]}`,
      role,
      run: index,
      data,
      borderColor: colour,
      backgroundColor: colour,
      borderWidth: 2,
      pointRadius: 0,
      ...style,
    });
    const batchLines =
      smoothing > 0
        ? [
            line('raw', raw, { borderColor: withAlpha(colour, this.theme.rawAlpha), borderWidth: 1, pointHoverRadius: 0 }),
            line('batch', smooth(raw, smoothing), { borderColor: withAlpha(colour, this.theme.batchAlpha), borderWidth: 1.5 }),
          ]
        : [line('batch', raw, { borderColor: withAlpha(colour, this.theme.batchAlpha), borderWidth: 1 })];
    return [
      ...batchLines,
      line('epoch', atEpoch(format.epoch), { pointRadius: 3 }),
      line('validation', atEpoch(format.validation), { borderDash: [6, 4], pointRadius: 3, pointStyle: 'rectRot' }),
    ];
  }

  /** Drag across a chart to show that x range in both; double-click to show everything again. */
  private enableDragZoom(chart: Chart<'line', XY[]>): void {
    const canvas = chart.canvas;
    const band = document.createElement('div');
    band.className = 'zoom-band';
    band.hidden = true;
    canvas.parentElement?.append(band);
    let start: number | undefined;
    const clampX = (x: number) => Math.min(Math.max(x, chart.chartArea.left), chart.chartArea.right);
    canvas.addEventListener('pointerdown', (event) => {
      const area = chart.chartArea;
      if (event.button !== 0 || event.offsetX < area.left || event.offsetX > area.right || event.offsetY > area.bottom) return;
      start = event.offsetX;
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener('pointermove', (event) => {
      if (start === undefined) return;
      const [left, right] = [start, clampX(event.offsetX)].sort((a, b) => a - b);
      Object.assign(band.style, { left: `${left}px`, width: `${right - left}px`, top: `${chart.chartArea.top}px`, height: `${chart.chartArea.height}px` });
      band.hidden = right - left < 4;
    });
    canvas.addEventListener('pointerup', (event) => {
      if (start === undefined) return;
      const [left, right] = [start, clampX(event.offsetX)].sort((a, b) => a - b);
      start = undefined;
      band.hidden = true;
      // A click or a tiny drag is not a zoom: hovering and clicking stay as they were.
      if (right - left < 6) return;
      const min = chart.scales.x.getValueForPixel(left);
      const max = chart.scales.x.getValueForPixel(right);
      if (min !== undefined && max !== undefined && max > min) this.onZoom({ min, max });
    });
    canvas.addEventListener('dblclick', () => this.onZoom(null));
  }
}
