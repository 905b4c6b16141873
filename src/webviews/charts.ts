/**
 * The two dashboard charts (loss and accuracy). Each run draws three lines in its colour:
 * training per batch (thin, faint), training per epoch (solid) and validation per epoch
 * (dashed). The x axis counts batches trained, so the per-batch and per-epoch curves of a
 * run line up. Series arrays are shared with the caller, who appends points and asks for
 * a redraw; redraws are coalesced to one per animation frame.
 */
import {
  Chart,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
  type ScatterDataPoint,
} from 'chart.js';
import { chartTheme, runColour, withAlpha } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip);

export type Point = ScatterDataPoint;

/** One run's curves for one chart. */
export interface Curves {
  batch: Point[];
  epoch: Point[];
  validation: Point[];
}

export interface RunSeries {
  label: string;
  colourIndex: number;
  loss: Curves;
  accuracy: Curves;
}

type Metric = 'loss' | 'accuracy';

export class Charts {
  private readonly charts: Record<Metric, Chart<'line', Point[]>>;
  private series: RunSeries[] = [];
  private pending = false;

  constructor(canvases: Record<Metric, HTMLCanvasElement>) {
    this.charts = {
      loss: this.create(canvases.loss, (v) => v.toFixed(2)),
      accuracy: this.create(canvases.accuracy, (v) => `${Math.round(v * 100)}%`),
    };
  }

  /** Replaces the runs drawn. */
  setSeries(series: RunSeries[]): void {
    this.series = series;
    for (const metric of ['loss', 'accuracy'] as const) {
      this.charts[metric].data.datasets = series.flatMap((run) => this.datasets(run, metric));
    }
    this.redraw();
  }

  /** Redraws on the next animation frame, however many points arrived meanwhile. */
  redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      for (const chart of Object.values(this.charts)) chart.update('none');
    });
  }

  /** Re-reads the theme colours after a theme change. */
  applyTheme(): void {
    for (const chart of Object.values(this.charts)) this.style(chart);
    this.setSeries(this.series);
  }

  private create(canvas: HTMLCanvasElement, tick: (value: number) => string): Chart<'line', Point[]> {
    const chart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false, axis: 'x' },
        scales: {
          x: { type: 'linear', title: { display: true, text: 'batches trained' }, ticks: { precision: 0 } },
          y: { type: 'linear', ticks: { callback: (value) => tick(Number(value)) } },
        },
        plugins: {
          tooltip: {
            callbacks: { label: (item) => `${item.dataset.label ?? ''}: ${tick(item.parsed.y ?? 0)}` },
          },
        },
      },
    });
    this.style(chart);
    return chart;
  }

  private style(chart: Chart<'line', Point[]>): void {
    const theme = chartTheme();
    Chart.defaults.font.family = theme.font;
    Chart.defaults.font.size = theme.fontSize;
    Chart.defaults.color = theme.text;
    for (const scale of Object.values(chart.options.scales ?? {})) {
      if (!scale) continue;
      scale.grid = { ...scale.grid, color: theme.grid };
      scale.ticks = { ...scale.ticks, color: theme.text };
    }
  }

  private datasets(run: RunSeries, metric: Metric): ChartDataset<'line', Point[]>[] {
    const colour = runColour(run.colourIndex);
    const curves = run[metric];
    return [
      {
        label: `${run.label} · training per batch`,
        data: curves.batch,
        borderColor: withAlpha(colour, 0.45),
        borderWidth: 1,
        pointRadius: 0,
      },
      {
        label: `${run.label} · training per epoch`,
        data: curves.epoch,
        borderColor: colour,
        backgroundColor: colour,
        borderWidth: 2,
        pointRadius: 3,
      },
      {
        label: `${run.label} · validation`,
        data: curves.validation,
        borderColor: colour,
        backgroundColor: colour,
        borderWidth: 2,
        borderDash: [6, 4],
        pointRadius: 3,
        pointStyle: 'rectRot',
      },
    ];
  }
}
