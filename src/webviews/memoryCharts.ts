/**
 * The two Memory Through Time charts, runs overlaid in their dashboard colours: the
 * gradient norm by steps back k on a log axis (the geometric mean as a line, the 10–90%
 * spread of the windows shaded around it), and the held-out loss by tokens of context on
 * a doubling axis, with each run's full-context loss dashed across. High-contrast themes
 * get thicker lines and a stronger band.
 */
import { Chart, Filler, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip, type ChartDataset, type Tick } from 'chart.js';
import { formatNumber } from '../protocol/format';
import type { MemoryPanelRun, MeasuredMemory } from '../protocol/memory';
import { STILL_CHART, useChartTheme } from './chartSetup';
import { contextTickLabel, contextX, logTickLabels } from './memoryAxes';
import { chartTheme, isHighContrast, runColour, withAlpha, type ChartTheme } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, Filler);

interface XY {
  x: number;
  y: number;
}

type Role = 'mean' | 'p90' | 'p10' | 'loss' | 'full';
type Dataset = ChartDataset<'line', XY[]> & { role: Role; runLabel: string };

/** A run with its curves, as drawn. */
export type DrawnRun = MemoryPanelRun & { memory: MeasuredMemory };

export class MemoryCharts {
  private theme: ChartTheme = chartTheme();
  private readonly gradient: Chart<'line', XY[]>;
  private readonly context: Chart<'line', XY[]>;
  private runs: DrawnRun[] = [];

  constructor(gradientCanvas: HTMLCanvasElement, contextCanvas: HTMLCanvasElement) {
    useChartTheme(this.theme);
    this.gradient = this.create(gradientCanvas, (item) => `k = ${item} steps back`);
    this.context = this.create(contextCanvas, (item) => `n = ${2 ** item} tokens of context`);
  }

  draw(runs: DrawnRun[]): void {
    this.runs = runs;
    this.drawGradient();
    this.drawContext();
  }

  /** Re-reads the theme's colours and fonts after a theme change. */
  applyTheme(): void {
    this.theme = chartTheme();
    useChartTheme(this.theme);
    this.draw(this.runs);
  }

  private create(canvas: HTMLCanvasElement, title: (x: number) => string): Chart<'line', XY[]> {
    return new Chart<'line', XY[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        ...STILL_CHART,
        interaction: { mode: 'index', intersect: false },
        plugins: {
          tooltip: {
            // The band's edges and the dashed level repeat what the line says; the tooltip lists each run's line.
            filter: (item) => ['mean', 'loss'].includes((item.dataset as Dataset).role),
            callbacks: {
              title: (items) => (items[0] ? title(items[0].parsed.x ?? 0) : ''),
              label: (item) => `${(item.dataset as Dataset).runLabel}: ${formatNumber(item.parsed.y ?? NaN, 3)}`,
            },
          },
        },
      },
    });
  }

  private lineWidth(): number {
    return isHighContrast() ? 3 : 2;
  }

  private drawGradient(): void {
    const contrast = isHighContrast();
    const datasets = this.runs.flatMap((run): Dataset[] => {
      const colour = runColour(run.colourIndex);
      const { lags, geometricMean, p10, p90 } = run.memory.gradient;
      const points = (values: number[]) => lags.map((k, j) => ({ x: k, y: values[j] })).filter((p) => p.y > 0);
      const edge = { borderWidth: 0, pointRadius: 0, runLabel: run.label, borderColor: 'transparent' };
      return [
        { ...edge, role: 'p90', data: points(p90), fill: '+1', backgroundColor: withAlpha(colour, contrast ? 0.25 : 0.15) },
        { ...edge, role: 'p10', data: points(p10), fill: false },
        { role: 'mean', runLabel: run.label, data: points(geometricMean), borderColor: colour, backgroundColor: colour, borderWidth: this.lineWidth(), pointRadius: 0, fill: false },
      ];
    });
    const maxLag = Math.max(1, ...this.runs.map((run) => Math.max(...run.memory.gradient.lags)));
    this.gradient.data.datasets = datasets;
    this.gradient.options.scales = {
      x: { type: 'linear', min: 1, max: maxLag, title: this.axisTitle('steps back k'), grid: this.grid(), ticks: { color: this.theme.text, maxTicksLimit: 9 } },
      y: {
        type: 'logarithmic',
        title: this.axisTitle('gradient norm (log scale)'),
        grid: this.grid(),
        ticks: { color: this.theme.text, callback: (_v, i, ticks: Tick[]) => logTickLabels(ticks.map((t) => t.value))[i] ?? '' },
      },
    };
    this.gradient.update('none');
    this.mark(this.gradient, datasets);
  }

  private drawContext(): void {
    const contrast = isHighContrast();
    let widest = 0;
    const datasets = this.runs.flatMap((run): Dataset[] => {
      const colour = runColour(run.colourIndex);
      const { contexts, loss, fullContextLoss } = run.memory.context;
      const xs = contexts.map(contextX);
      widest = Math.max(widest, ...xs);
      const common = { runLabel: run.label, borderColor: colour, backgroundColor: colour, fill: false };
      return [
        { ...common, role: 'loss', data: xs.map((x, j) => ({ x, y: loss[j] })), borderWidth: this.lineWidth(), pointRadius: contrast ? 4 : 3 },
        { ...common, role: 'full', data: [{ x: 0, y: fullContextLoss }, { x: Math.max(...xs), y: fullContextLoss }], borderWidth: contrast ? 2 : 1.5, borderDash: [6, 4], pointRadius: 0 },
      ];
    });
    this.context.data.datasets = datasets;
    this.context.options.scales = {
      x: {
        type: 'linear',
        min: 0,
        max: Math.max(widest, 1),
        title: this.axisTitle('tokens of context n'),
        grid: this.grid(),
        ticks: { color: this.theme.text, stepSize: 1, callback: (value) => contextTickLabel(Number(value)) },
      },
      y: { type: 'linear', title: this.axisTitle('held-out loss (nats per token)'), grid: this.grid(), ticks: { color: this.theme.text, maxTicksLimit: 8 } },
    };
    this.context.update('none');
    this.mark(this.context, datasets);
  }

  private axisTitle(text: string) {
    return { display: true, text, color: this.theme.text };
  }

  private grid() {
    return { color: this.theme.grid };
  }

  /** What is drawn, for the e2e tests (a canvas has no DOM to read): lines, points and the y scale. */
  private mark(chart: Chart<'line', XY[]>, datasets: Dataset[]): void {
    const lines = datasets.filter((d) => d.role === 'mean' || d.role === 'loss');
    Object.assign(chart.canvas.dataset, {
      lines: String(lines.length),
      points: String(lines.reduce((sum, d) => sum + d.data.length, 0)),
      yScale: chart.scales.y?.type ?? '',
      runs: lines.map((d) => d.runLabel).join('|'),
    });
  }
}
