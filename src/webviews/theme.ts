/**
 * Colours from the VS Code theme. Runs take their colour from the theme's chart palette by
 * position in the selection, so the dashboard and the Models view agree. Canvas drawing
 * needs real colour values, so CSS variables are resolved through a probe element.
 */

/** VS Code's chart colours, which every theme defines with enough contrast. */
const PALETTE = [
  '--vscode-charts-blue',
  '--vscode-charts-orange',
  '--vscode-charts-green',
  '--vscode-charts-purple',
  '--vscode-charts-red',
  '--vscode-charts-yellow',
];

/** For a swatch's style: the CSS variable of the index-th run colour. */
export function runColourVar(index: number): string {
  return `var(${PALETTE[index % PALETTE.length]}, var(--vscode-foreground))`;
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
}

export function chartTheme(): ChartTheme {
  const style = getComputedStyle(document.body);
  return {
    text: resolveColour('var(--vscode-descriptionForeground, var(--vscode-foreground))'),
    grid: withAlpha(resolveColour('var(--vscode-foreground)'), 0.12),
    font: style.getPropertyValue('--vscode-font-family') || 'sans-serif',
    fontSize: parseFloat(style.getPropertyValue('--vscode-font-size')) || 13,
  };
}

/** VS Code changes the body class and the CSS variables when the theme changes. */
export function onThemeChange(callback: () => void): void {
  const observer = new MutationObserver(() => callback());
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
