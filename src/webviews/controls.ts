/**
 * The dashboard's chart controls, kept in the webview state so that hiding the tab or
 * reloading the window brings them back as they were. What comes back from the state is
 * checked: a value from an older SeqLab, or none, falls back to the default.
 * Pure, for test/unit/dashboardLogic.test.ts.
 */
import { X_MODES, type XMode } from './xAxis';

export interface ChartControls {
  /** Weight of the debiased moving average of the per-batch curves, 0 (off) to 0.99. */
  smoothing: number;
  xMode: XMode;
  logY: boolean;
  ignoreOutliers: boolean;
  /** The x range dragged out, in the units of `xMode`; null shows everything. */
  zoom: { min: number; max: number } | null;
  /** The settings table shows only the settings that differ between the runs. */
  diffOnly: boolean;
}

/** TensorBoard's default smoothing: per-batch losses are noisy enough to need it. */
export const DEFAULT_CONTROLS: ChartControls = { smoothing: 0.6, xMode: 'step', logY: false, ignoreOutliers: false, zoom: null, diffOnly: true };

export const MAX_SMOOTHING = 0.99;

export function parseControls(value: unknown): ChartControls {
  const saved = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const flag = (v: unknown, fallback: boolean) => (typeof v === 'boolean' ? v : fallback);
  const zoom = saved.zoom as { min?: unknown; max?: unknown } | null | undefined;
  const validZoom =
    zoom && typeof zoom.min === 'number' && typeof zoom.max === 'number' && Number.isFinite(zoom.min) && Number.isFinite(zoom.max) && zoom.min < zoom.max;
  return {
    smoothing:
      typeof saved.smoothing === 'number' && Number.isFinite(saved.smoothing)
        ? Math.min(Math.max(saved.smoothing, 0), MAX_SMOOTHING)
        : DEFAULT_CONTROLS.smoothing,
    xMode: X_MODES.includes(saved.xMode as XMode) ? (saved.xMode as XMode) : DEFAULT_CONTROLS.xMode,
    logY: flag(saved.logY, DEFAULT_CONTROLS.logY),
    ignoreOutliers: flag(saved.ignoreOutliers, DEFAULT_CONTROLS.ignoreOutliers),
    zoom: validZoom ? { min: zoom.min as number, max: zoom.max as number } : null,
    diffOnly: flag(saved.diffOnly, DEFAULT_CONTROLS.diffOnly),
  };
}
