/**
 * exp, sigmoid and tanh for the cell kernels' JavaScript loops (the cpu backend, and widths
 * the SIMD code does not take). V8's Math.exp costs ~20 ns here and Math.tanh ~35 ns, which
 * would make the transcendental functions of an LSTM step cost more than its matmul. This
 * exp is a table of 2^(k/64) times a degree-4 polynomial on |r| ≤ ln2/128: ~6 ns, relative
 * error below 1e-12, far inside float32 precision.
 */

const LOG2E_64 = 64 * Math.LOG2E;
// ln 2 / 64 split in two so that k · LN2_64_HI is exact (Cody–Waite reduction).
const LN2_64_HI = 0.6931471803691238 / 64;
const LN2_64_LO = 1.9082149292705877e-10 / 64;
const MIN_K = -127 * 64;
const MAX_K = 128 * 64;
/** 2^(k/64) for every k the clamped argument can produce. */
const POW2 = new Float64Array(MAX_K - MIN_K + 1).map((_, i) => Math.pow(2, (i + MIN_K) / 64));
/** Added before `| 0` so that truncation rounds to nearest for negative arguments too. */
const ROUND_OFFSET = 16384;

/** e^x for x clamped to [-87, 88] (beyond that float32 saturates anyway). */
export function exp(x: number): number {
  if (x > 88) x = 88;
  else if (x < -87) x = -87;
  const k = ((x * LOG2E_64 + ROUND_OFFSET + 0.5) | 0) - ROUND_OFFSET;
  const r = x - k * LN2_64_HI - k * LN2_64_LO;
  return (1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24))))) * POW2[k - MIN_K];
}

export function sigmoid(x: number): number {
  return 1 / (1 + exp(-x));
}

export function tanh(x: number): number {
  return 1 - 2 / (exp(2 * x) + 1);
}
