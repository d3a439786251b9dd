/**
 * Shared by the fuzz suites (`test/fuzz/<parser>_fuzz_test.ts`): the number of
 * cases and the seed, and a classifier that runs each case, times it and
 * sorts the outcome into ok / typed `VlmError` / untyped throw / over time.
 *
 * Cases run in process, so a case cannot be pre-empted: "over time" is
 * measured after the case returns (a case that never returns hangs the suite,
 * which the test runner's own timeout then reports). `deno task fuzz` runs the
 * suites alone; `VLMKIT_FUZZ_RUNS=200000 deno task fuzz` is the long run.
 *
 * @module
 */
import { VlmError } from "../../src/errors/vlm_error.ts";

/** Cases per parser: `$VLMKIT_FUZZ_RUNS`, default 10,000. */
export const FUZZ_RUNS: number = (() => {
  const raw = Deno.env.get("VLMKIT_FUZZ_RUNS");
  const runs = raw === undefined ? 10_000 : Number(raw);
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new Error(`VLMKIT_FUZZ_RUNS must be a positive integer, not ${JSON.stringify(raw)}`);
  }
  return runs;
})();

/** Fixed seed: a failure names its path and reproduces. */
export const FUZZ_SEED = 0x29_f022;

/** Longest a single case may take (ms); generous because the CI machine is shared. */
export const CASE_TIME_LIMIT_MS = 2_000;

/** Inputs shorter than this are left out of the per-byte figure (timer noise dominates). */
const PER_BYTE_MIN_BYTES = 256;

/** How a case ended. */
export type Outcome = "ok" | "typed" | "untyped" | "over_time";

/** Runs the cases of one parser and keeps the figures the summary line prints. */
export class FuzzClassifier {
  readonly counts: Record<Outcome, number> = { ok: 0, typed: 0, untyped: 0, over_time: 0 };
  /** Worst milliseconds per input byte (inputs of at least 256 bytes). */
  worstMsPerByte = 0;
  /** Slowest case (ms) and its size. */
  worstMs = 0;
  worstBytes = 0;
  /** First untyped throw, for the report. */
  firstUntyped: unknown;
  readonly #started = performance.now();

  constructor(readonly parser: string, readonly limitMs = CASE_TIME_LIMIT_MS) {}

  /** Runs one synchronous case of `bytes` input bytes and classifies it. */
  run(bytes: number, body: () => unknown): Outcome {
    const start = performance.now();
    let thrown: unknown;
    let threw = false;
    try {
      body();
    } catch (error) {
      thrown = error;
      threw = true;
    }
    return this.#record(bytes, performance.now() - start, threw, thrown);
  }

  /** Runs one asynchronous case and classifies it. */
  async runAsync(bytes: number, body: () => Promise<unknown>): Promise<Outcome> {
    const start = performance.now();
    let thrown: unknown;
    let threw = false;
    try {
      await body();
    } catch (error) {
      thrown = error;
      threw = true;
    }
    return this.#record(bytes, performance.now() - start, threw, thrown);
  }

  #record(bytes: number, ms: number, threw: boolean, thrown: unknown): Outcome {
    if (ms > this.worstMs) {
      this.worstMs = ms;
      this.worstBytes = bytes;
    }
    if (bytes >= PER_BYTE_MIN_BYTES) {
      this.worstMsPerByte = Math.max(this.worstMsPerByte, ms / bytes);
    }
    let outcome: Outcome = !threw ? "ok" : thrown instanceof VlmError ? "typed" : "untyped";
    if (outcome === "untyped") this.firstUntyped ??= thrown;
    if (ms > this.limitMs && outcome !== "untyped") outcome = "over_time";
    this.counts[outcome]++;
    return outcome;
  }

  /** Total cases run. */
  get cases(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** One line: cases, outcomes, worst times, wall time. */
  summary(): string {
    const { ok, typed, untyped, over_time } = this.counts;
    const wall = (performance.now() - this.#started) / 1000;
    return `fuzz ${this.parser}: ${this.cases} cases, ${ok} ok, ${typed} typed, ` +
      `${untyped} untyped, ${over_time} over ${this.limitMs} ms; worst ` +
      `${this.worstMs.toFixed(1)} ms (${this.worstBytes} B), ` +
      `${(this.worstMsPerByte * 1000).toFixed(2)} µs/B; wall ${wall.toFixed(1)} s`;
  }

  /** Prints the summary and throws when a case threw untyped or ran over time. */
  report(): void {
    console.log(this.summary());
    if (this.counts.untyped > 0) {
      throw new Error(`${this.parser}: ${this.counts.untyped} untyped throw(s); first:`, {
        cause: this.firstUntyped,
      });
    }
    if (this.counts.over_time > 0) {
      throw new Error(`${this.parser}: ${this.counts.over_time} case(s) over ${this.limitMs} ms`);
    }
  }
}

/** Throws (so fast-check shrinks and reports the input) when a case was not clean. */
export function expectClean(outcome: Outcome, classifier: FuzzClassifier): void {
  if (outcome === "untyped") {
    throw new Error(`${classifier.parser}: untyped throw`, { cause: classifier.firstUntyped });
  }
  if (outcome === "over_time") throw new Error(`${classifier.parser}: over time`);
}

/** UTF-8 size of a string, for the per-byte figures. */
export function byteSize(text: string): number {
  return new TextEncoder().encode(text).length;
}
