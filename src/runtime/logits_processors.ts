/**
 * Logits processors, applied in place before sampling, in the order
 * transformers applies them: repetition penalty, then temperature, top-k and
 * top-p (the last three only when sampling).
 *
 * @module
 */

/**
 * CTRL-style repetition penalty over every id seen (prompt included): a
 * positive logit is divided by `penalty`, a negative one multiplied.
 */
export function applyRepetitionPenalty(
  logits: Float32Array,
  seen: Iterable<number>,
  penalty: number,
): void {
  if (penalty === 1) return;
  for (const id of new Set(seen)) {
    if (id < 0 || id >= logits.length) continue;
    const v = logits[id];
    logits[id] = v > 0 ? v / penalty : v * penalty;
  }
}

/** Divides every logit by `temperature` (> 0). */
export function applyTemperature(logits: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  for (let i = 0; i < logits.length; i++) logits[i] /= temperature;
}

/** Keeps the `k` largest logits (ties at the k-th value are kept) and sets the rest to −∞. */
export function applyTopK(logits: Float32Array, k: number): void {
  if (k <= 0 || k >= logits.length) return;
  const threshold = Float32Array.from(logits).sort().reverse()[k - 1];
  for (let i = 0; i < logits.length; i++) if (logits[i] < threshold) logits[i] = -Infinity;
}

/**
 * Nucleus filtering: keeps the smallest set of most-likely tokens whose
 * probability mass reaches `p` (always at least one), −∞ elsewhere.
 */
export function applyTopP(logits: Float32Array, p: number): void {
  if (p >= 1) return;
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  const probs = softmax(logits);
  let mass = 0;
  let keep = 0;
  while (keep < order.length) {
    mass += probs[order[keep]];
    keep++;
    if (mass >= p) break;
  }
  for (let i = keep; i < order.length; i++) logits[order[i]] = -Infinity;
}

/** Numerically stable softmax (−∞ → 0). */
export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = logits[i] === -Infinity ? 0 : Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
