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

/** One out-of-range sampling setting. */
export interface SamplingProblem {
  /** The option's name. */
  option: keyof SamplingOptions;
  /** What is wrong with it, e.g. `must be ≥ 0, got -1`. */
  message: string;
}

/** Every out-of-range setting of `options` (unset options take their defaults and pass). */
export function samplingProblems(options: SamplingOptions): SamplingProblem[] {
  const { temperature = 0, topK = 0, topP = 1, repetitionPenalty = 1 } = options;
  const problems: SamplingProblem[] = [];
  const check = (ok: boolean, option: keyof SamplingOptions, rule: string, value: unknown) => {
    if (!ok) problems.push({ option, message: `must be ${rule}, got ${value}` });
  };
  check(temperature >= 0, "temperature", "≥ 0", temperature);
  check(Number.isInteger(topK) && topK >= 0, "topK", "an integer ≥ 0", topK);
  check(topP > 0 && topP <= 1, "topP", "in (0, 1]", topP);
  check(repetitionPenalty > 0, "repetitionPenalty", "> 0", repetitionPenalty);
  return problems;
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
    const problems = samplingProblems(options);
    if (problems.length > 0) {
      throw new RangeError(problems.map((p) => `${p.option} ${p.message}`).join("; "));
    }
    this.#random = seededRandom(this.#options.seed);
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
