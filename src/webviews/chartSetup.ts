/**
 * What every SeqLab chart shares (the dashboard's and Memory Through Time's): the theme's
 * font and text colour as chart.js defaults, and options for charts that redraw at once
 * from {x, y} points, sized by their box.
 */
import { Chart } from 'chart.js';
import type { ChartTheme } from './theme';

/** No animation (data comes in bursts and a theme change redraws everything), the box's size, points given as {x, y}. */
export const STILL_CHART = { animation: false, responsive: true, maintainAspectRatio: false, parsing: false } as const;

/** Makes the theme's font and text colour chart.js's defaults, for charts created or updated after. */
export function useChartTheme(theme: ChartTheme): void {
  Chart.defaults.font.family = theme.font;
  Chart.defaults.font.size = theme.fontSize;
  Chart.defaults.color = theme.text;
}
