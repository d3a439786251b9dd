/**
 * Answer metrics: exact match after trimming, and character edit distance
 * (Levenshtein: insertions, deletions and substitutions of Unicode code
 * points) for the character error rate.
 *
 * @module
 */

/** Normalises an answer for comparison: surrounding whitespace removed. */
export function normalizeAnswer(text: string): string {
  return text.trim();
}

/** Levenshtein distance between the code points of `a` and `b`. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitution = previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[y.length];
}

/** Running totals of one group of items. */
export interface ScoreTally {
  /** Items seen. */
  count: number;
  /** Items whose normalised prediction equals the normalised answer. */
  exact: number;
  /** Sum of edit distances prediction → answer. */
  edits: number;
  /** Sum of answer lengths in code points. */
  answerChars: number;
}

/** An empty tally. */
export function emptyTally(): ScoreTally {
  return { count: 0, exact: 0, edits: 0, answerChars: 0 };
}

/** Adds one prediction to `tally`; returns whether it was an exact match. */
export function score(tally: ScoreTally, prediction: string, answer: string): boolean {
  const p = normalizeAnswer(prediction);
  const a = normalizeAnswer(answer);
  const exact = p === a;
  tally.count++;
  if (exact) tally.exact++;
  tally.edits += editDistance(p, a);
  tally.answerChars += [...a].length;
  return exact;
}

/** Character error rate: edits per answer character (0 when there are no characters). */
export function charErrorRate(tally: ScoreTally): number {
  return tally.answerChars === 0 ? 0 : tally.edits / tally.answerChars;
}
