/**
 * Stop strings over streamed text: finds the first stop string in the
 * generated text, and tells how much text is safe to emit now (text that
 * might be the start of a stop string is held back).
 *
 * @module
 */

/** Where text must be cut, if a stop string occurs. */
export function findStop(text: string, stops: readonly string[]): number | undefined {
  let cut: number | undefined;
  for (const stop of stops) {
    if (stop === "") continue;
    const at = text.indexOf(stop);
    if (at >= 0 && (cut === undefined || at < cut)) cut = at;
  }
  return cut;
}

/**
 * Length of the prefix of `text` that can be emitted without risking a
 * stop string that is still being completed.
 */
export function safeEmitLength(text: string, stops: readonly string[]): number {
  let hold = 0;
  for (const stop of stops) {
    for (let n = Math.min(stop.length - 1, text.length); n > hold; n--) {
      if (text.endsWith(stop.slice(0, n))) {
        hold = n;
        break;
      }
    }
  }
  return text.length - hold;
}
