/**
 * Detecting a repeating tail: the signature of a generation loop, where the
 * model emits the same element (or the same few elements) over and over until
 * it runs out of tokens.
 *
 * @module
 */

/** A repeating tail found by {@link tailRepeat}. */
export interface TailRepeat {
  /** Length of the repeated unit (1 = the same element again and again). */
  period: number;
  /** How many full copies of the unit end the sequence. */
  count: number;
  /** Index where the first copy starts. */
  start: number;
}

/**
 * Finds the shortest unit (up to `maxPeriod` items) whose copies make up the
 * end of `keys`, repeated at least `minRepeats` times. Items compare with
 * `===`. Returns `undefined` when the tail does not repeat.
 */
export function tailRepeat<T>(
  keys: readonly T[],
  minRepeats: number,
  maxPeriod = 4,
): TailRepeat | undefined {
  const n = keys.length;
  for (let period = 1; period <= maxPeriod && period * minRepeats <= n; period++) {
    let count = 1;
    let start = n - period;
    while (start - period >= 0) {
      let same = true;
      for (let k = 0; k < period; k++) {
        if (keys[start - period + k] !== keys[start + k]) {
          same = false;
          break;
        }
      }
      if (!same) break;
      start -= period;
      count++;
    }
    if (count >= minRepeats) return { period, count, start };
  }
  return undefined;
}
