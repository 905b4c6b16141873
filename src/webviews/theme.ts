/**
 * Colours from the VS Code theme. Runs take their colour by position in the selection, so
 * the dashboard and the Models view agree; the palette is media/common.css's
 * --seqlab-run-N, VS Code's chart colours except in high-contrast themes, where those are
 * too alike (two blues in High Contrast Light). Canvas drawing needs real colour values,
 * so CSS variables are resolved through a probe element.
 */

const PALETTE_SIZE = 6;

/** For a swatch's style: the CSS variable of the index-th run colour. */
export function runColourVar(index: number): string {
  return `var(--seqlab-run-${index % PALETTE_SIZE}, var(--vscode-foreground))`;
}

let probe: HTMLElement | undefined;

/** Any CSS colour (variables included) as the browser's computed "rgb(…)" / "rgba(…)" string. */
export function resolveColour(css: string): string {
  if (!probe) {
    probe = document.createElement('span');
    probe.hidden = true;
    document.body.append(probe);
  }
  probe.style.color = '';
  probe.style.color = css;
  return getComputedStyle(probe).color;
}

/** `colour` ("rgb(r, g, b)" or "rgba(…)") at the given opacity. */
export function withAlpha(colour: string, alpha: number): string {
  const match = /rgba?\(([^,]+),\s*([^,]+),\s*([^,)]+)/.exec(colour);
  return match ? `rgba(${match[1]}, ${match[2]}, ${match[3]}, ${alpha})` : colour;
}

export function runColour(index: number): string {
  return resolveColour(runColourVar(index));
}

export interface ChartTheme {
  text: string;
  grid: string;
  font: string;
  fontSize: number;
  /** Opacity of the raw per-batch line under its smoothed copy, and of the per-batch line itself. */
  rawAlpha: number;
  batchAlpha: number;
}

/** VS Code marks the theme kind with a body class: vscode-light, vscode-dark, vscode-high-contrast(-light). */
export function isHighContrast(): boolean {
  return document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
}

export function chartTheme(): ChartTheme {
  const style = getComputedStyle(document.body);
  // High-contrast themes get full-strength text and lines: grey on black is what they exist to avoid.
  const contrast = isHighContrast();
  return {
    text: resolveColour(contrast ? 'var(--vscode-foreground)' : 'var(--vscode-descriptionForeground, var(--vscode-foreground))'),
    grid: withAlpha(resolveColour('var(--vscode-foreground)'), contrast ? 0.35 : 0.12),
    font: style.getPropertyValue('--vscode-font-family') || 'sans-serif',
    fontSize: parseFloat(style.getPropertyValue('--vscode-font-size')) || 13,
    rawAlpha: contrast ? 0.5 : 0.25,
    batchAlpha: contrast ? 1 : 0.6,
  };
}

/** VS Code changes the body class and the CSS variables when the theme changes. */
export function onThemeChange(callback: () => void): void {
  const observer = new MutationObserver(() => callback());
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
