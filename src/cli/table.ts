/** Plain-text tables for the terminal: columns padded to their widest cell. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Text for one table cell or line: line breaks shown as ↵ so rows stay rows. */
export function oneLine(text: string): string {
  return text.replace(/\n/g, ' ↵ ').replace(/ {2,}/g, ' ');
}
