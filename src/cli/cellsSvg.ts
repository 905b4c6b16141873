/**
 * The cell inspector's heat map as a plain SVG: the inspected words (laid out by
 * ./wordsSvg), each on a background whose colour says which side of the centre one unit's
 * value is (blue below, red above) and whose strength says how far.
 */
import { heat, heatScale, SIGNAL_LABELS, type CellInspection, type CellSignal } from '../protocol/cells';
import { escapeXml, LINE_HEIGHT, MARGIN, shadedWords, WIDTH } from './wordsSvg';

/** Below the centre, above the centre (a blue and a red that read on white and in print). */
const COLOURS = { below: '33, 102, 172', above: '178, 24, 43' };

export interface HeatMapChoice {
  signal: CellSignal;
  unit: number;
  /** What to call the run in the title. */
  runName: string;
}

export function cellsSvg(inspection: CellInspection, values: number[], choice: HeatMapChoice): string {
  const scale = heatScale(choice.signal, values);
  const title = `${inspection.cell.toUpperCase()} ${choice.runName}: unit ${choice.unit}, ${SIGNAL_LABELS[choice.signal]}${inspection.layers > 1 ? `, layer ${inspection.layer + 1}` : ''}`;
  const words = inspection.tokens.map((token, t) => {
    const strength = heat(values[t], scale);
    return { ...token, fill: `rgba(${strength < 0 ? COLOURS.below : COLOURS.above}, ${Math.abs(strength).toFixed(3)})`, title: `${token.token}: ${values[t].toFixed(3)}` };
  });
  const { svg, bottom } = shadedWords(words, MARGIN + 64);
  const height = bottom + LINE_HEIGHT + 40;
  const [low, high] = [scale.centre - scale.halfRange, scale.centre + scale.halfRange];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="13">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${MARGIN}" y="${MARGIN + 14}" font-size="15" font-weight="bold" fill="#222">${escapeXml(title)}</text>
<text x="${MARGIN}" y="${MARGIN + 32}" font-size="12" fill="#555">blue below ${scale.centre}, red above; full colour at ${low.toFixed(2)} and ${high.toFixed(2)}</text>
<g fill="#111">
${svg}
</g>
${legendBar(height - 28, scale.centre, scale.halfRange)}
</svg>
`;
}

/** A strip from full blue through white to full red, labelled at its ends and centre. */
function legendBar(y: number, centre: number, halfRange: number): string {
  const width = 240;
  const stops = [
    `<stop offset="0" stop-color="rgb(${COLOURS.below})"/>`,
    `<stop offset="0.5" stop-color="#fff"/>`,
    `<stop offset="1" stop-color="rgb(${COLOURS.above})"/>`,
  ].join('');
  const label = (offset: number, value: number, anchor: string) =>
    `<text x="${MARGIN + offset}" y="${y + 24}" font-size="11" fill="#555" text-anchor="${anchor}">${value.toFixed(2)}</text>`;
  return `<defs><linearGradient id="heat">${stops}</linearGradient></defs>
<rect x="${MARGIN}" y="${y}" width="${width}" height="10" fill="url(#heat)" stroke="#999" stroke-width="0.5"/>
${label(0, centre - halfRange, 'start')}${label(width / 2, centre, 'middle')}${label(width, centre + halfRange, 'end')}`;
}
