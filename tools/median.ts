/**
 * The median the benchmarks and profiles report: the middle value of the
 * sorted figures (the upper one of the two middles for an even count).
 *
 * @module
 */

/** Median of `values` (not modified). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
