/**
 * Picking the next token: greedy (the first maximum wins, as the reference
 * implementations) or a seeded multinomial draw after the logits processors.
 *
 * @module
 */
import {
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  softmax,
} from "./logits_processors.ts";
import { seededRandom } from "./rng.ts";

/** Sampling settings. Temperature 0 (the default) is greedy decoding. */
export interface SamplingOptions {
  /** Softmax temperature; 0 = greedy. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 = off). */
  topK?: number;
  /** Nucleus mass (1 = off). */
  topP?: number;
  /** Penalty for tokens already in the sequence (1 = off). */
  repetitionPenalty?: number;
  /** Seed of the sampler's random stream. */
  seed?: number;
}

/** Index of the largest value; the first one on ties. */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Draws an index from `probs` with the uniform number `u` ∈ [0, 1). */
export function drawIndex(probs: Float64Array, u: number): number {
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    cumulative += probs[i];
    last = i;
    if (u < cumulative) return i;
  }
  return last;
}

/** A stateful sampler for one generation. */
export class Sampler {
  readonly #options: Required<SamplingOptions>;
  readonly #random: () => number;

  /** Validates and stores the options. */
  constructor(options: SamplingOptions = {}) {
    this.#options = {
      temperature: options.temperature ?? 0,
      topK: options.topK ?? 0,
      topP: options.topP ?? 1,
      repetitionPenalty: options.repetitionPenalty ?? 1,
      seed: options.seed ?? 0,
    };
    const o = this.#options;
    const problems = [
      !(o.temperature >= 0) && `temperature must be ≥ 0, got ${o.temperature}`,
      !(Number.isInteger(o.topK) && o.topK >= 0) && `topK must be an integer ≥ 0, got ${o.topK}`,
      !(o.topP > 0 && o.topP <= 1) && `topP must be in (0, 1], got ${o.topP}`,
      !(o.repetitionPenalty > 0) && `repetitionPenalty must be > 0, got ${o.repetitionPenalty}`,
    ].filter(Boolean);
    if (problems.length > 0) throw new RangeError(problems.join("; "));
    this.#random = seededRandom(o.seed);
  }

  /** Whether this sampler decodes greedily. */
  get greedy(): boolean {
    return this.#options.temperature === 0;
  }

  /** Chooses the next id; `logits` is modified in place. */
  next(logits: Float32Array, seen: readonly number[]): number {
    const o = this.#options;
    applyRepetitionPenalty(logits, seen, o.repetitionPenalty);
    if (this.greedy) return argmax(logits);
    applyTemperature(logits, o.temperature);
    applyTopK(logits, o.topK);
    applyTopP(logits, o.topP);
    return drawIndex(softmax(logits), this.#random());
  }
}
