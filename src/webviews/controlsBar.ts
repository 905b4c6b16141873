/**
 * The dashboard's row of chart controls, bound to a ChartControls value: each input
 * changes its field and reports the whole new value (which the page draws and saves).
 * Changing the x axis drops the zoom, whose range was in the old axis's units.
 */
import { formatNumber } from '../protocol/format';
import type { ChartControls } from './controls';
import { byId } from './dom';
import { X_MODES, type XMode } from './xAxis';

export class ControlsBar {
  private readonly smoothing = byId<HTMLInputElement>('smoothing');
  private readonly smoothingValue = byId<HTMLOutputElement>('smoothing-value');
  private readonly xMode = byId<HTMLSelectElement>('x-mode');
  private readonly logY = byId<HTMLInputElement>('log-y');
  private readonly outliers = byId<HTMLInputElement>('ignore-outliers');
  private readonly resetZoom = byId<HTMLButtonElement>('reset-zoom');

  constructor(
    private controls: ChartControls,
    private readonly onChange: (controls: ChartControls) => void,
  ) {
    this.smoothing.addEventListener('input', () => this.change({ smoothing: Number(this.smoothing.value) }));
    this.xMode.addEventListener('change', () => {
      const mode = this.xMode.value as XMode;
      if (X_MODES.includes(mode)) this.change({ xMode: mode, zoom: null });
    });
    this.logY.addEventListener('change', () => this.change({ logY: this.logY.checked }));
    this.outliers.addEventListener('change', () => this.change({ ignoreOutliers: this.outliers.checked }));
    this.resetZoom.addEventListener('click', () => this.change({ zoom: null }));
    this.show();
  }

  get value(): ChartControls {
    return this.controls;
  }

  change(patch: Partial<ChartControls>): void {
    this.controls = { ...this.controls, ...patch };
    this.show();
    this.onChange(this.controls);
  }

  private show(): void {
    const c = this.controls;
    this.smoothing.value = String(c.smoothing);
    this.smoothingValue.value = c.smoothing === 0 ? 'off' : formatNumber(c.smoothing, 2);
    this.xMode.value = c.xMode;
    this.logY.checked = c.logY;
    this.outliers.checked = c.ignoreOutliers;
    this.resetZoom.hidden = c.zoom === null;
  }
}
