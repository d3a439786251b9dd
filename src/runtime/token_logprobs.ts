/**
 * Log-probabilities of a decoding step, for callers that ask for them
 * (OpenAI's `logprobs` / `top_logprobs`). Computed from the logits after the
 * request's logits processors and before the sampler's own settings
 * (repetition penalty, temperature, top-k/p), i.e. the model's distribution
 * as the request steered it. Only runs when asked: the hot path is unchanged.
 *
 * @module
 */
import type { TokenLogprob } from "./generation_types.ts";

/** `log(Σ exp(logits))`, stable (−∞ entries contribute nothing). */
export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of logits) if (v !== -Infinity) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** The `k` ids with the largest logits, largest first (the lower id first on ties). */
export function topIds(logits: Float32Array, k: number): number[] {
  const best: number[] = [];
  if (k <= 0) return best;
  for (let id = 0; id < logits.length; id++) {
    const v = logits[id];
    if (best.length === k && v <= logits[best[k - 1]]) continue;
    let at = best.length === k ? k - 1 : best.length;
    while (at > 0 && logits[best[at - 1]] < v) at--;
    best.splice(at, 0, id);
    if (best.length > k) best.pop();
  }
  return best;
}

/**
 * The log-probability of `chosen` and of the `top` most likely ids under
 * the softmax of `logits` (read before the sampler modifies them).
 */
export class StepLogprobs {
  readonly #norm: number;
  readonly #top: { id: number; logprob: number }[];
  readonly #logits: Float32Array;

  /** Reads `logits` now; call before anything else changes them. */
  constructor(logits: Float32Array, top: number) {
    this.#norm = logSumExp(logits);
    this.#top = topIds(logits, top).map((id) => ({ id, logprob: logits[id] - this.#norm }));
    // The sampler edits the logits in place before the chosen id is known.
    this.#logits = logits.slice();
  }

  /** The record of the step once the sampler chose `id`. */
  of(id: number): TokenLogprob {
    return { id, logprob: this.#logits[id] - this.#norm, top: this.#top };
  }
}
