/**
 * How the Memory Through Time charts label their axes. Pure, for test/unit/memoryPanel.test.ts.
 *
 * - The gradient axis is logarithmic and its values span many decades (1 down to 1e-12
 *   for a simple RNN): only powers of ten are labelled, as 10⁻³, unless the values span
 *   less than two decades, when chart.js's own 1-2-5 ticks are labelled instead.
 * - The context axis doubles (1, 2, 4 … 64 tokens): the chart draws it as log₂ n on a
 *   linear axis with a tick per doubling, each labelled with n itself.
 */

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

/** 10^exponent written as a person reads it: 1, 10, 10⁻³. */
export function powerOfTen(exponent: number): string {
  if (exponent === 0) return '1';
  if (exponent === 1) return '10';
  return `10${String(exponent).replace(/./g, (c) => SUPERSCRIPT[c] ?? c)}`;
}

/** Labels for a log axis's tick values: powers of ten when the ticks hold at least two, else short numbers. */
export function logTickLabels(values: readonly number[]): string[] {
  const exponentOf = (v: number) => Math.round(Math.log10(v));
  const isPower = (v: number) => v > 0 && Math.abs(Math.log10(v) - exponentOf(v)) < 1e-9;
  if (values.filter(isPower).length >= 2) return values.map((v) => (isPower(v) ? powerOfTen(exponentOf(v)) : ''));
  return values.map((v) => (v > 0 ? Number(v.toPrecision(2)).toString() : ''));
}

/** x of n tokens of context on the doubling axis. */
export function contextX(tokens: number): number {
  return Math.log2(tokens);
}

/** The label of a tick of the doubling axis: n for whole doublings, nothing between them. */
export function contextTickLabel(x: number): string {
  return Number.isInteger(x) ? String(2 ** x) : '';
}
