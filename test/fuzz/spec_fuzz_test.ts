/**
 * Fuzz: spec validation (`parseSpec`, `resolve`) over mutated shipped specs
 * (variants/*.json): a hostile value anywhere (prototype-like keys, objects
 * with a `toString` key, arrays nested thousands deep) ends in a plan or a
 * typed error, within the time limit.
 */
import fc from "fast-check";
import { parseSpec } from "../../src/spec/validate.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { expectClean, FUZZ_RUNS, FUZZ_SEED, FuzzClassifier } from "./_classify.ts";
import { mutatedValue } from "./_mutate.ts";

const VARIANTS = new URL("../../variants/", import.meta.url);
const SEEDS: unknown[] = [...Deno.readDirSync(VARIANTS)]
  .filter((entry) => entry.name.endsWith(".json"))
  .map((entry) => entry.name)
  .sort()
  .map((name) => JSON.parse(Deno.readTextFileSync(new URL(name, VARIANTS))));

/** A size for the per-byte figure that does not itself recurse into deep values. */
function approximateBytes(value: unknown): number {
  let bytes = 0;
  const stack = [value];
  while (stack.length > 0 && bytes < 1e7) {
    const v = stack.pop();
    bytes += typeof v === "string" ? v.length + 2 : 4;
    if (typeof v === "object" && v !== null) stack.push(...Object.values(v));
  }
  return bytes;
}

Deno.test(`fuzz: spec validation (${FUZZ_RUNS} cases)`, () => {
  const parse = new FuzzClassifier("spec parseSpec");
  const plan = new FuzzClassifier("spec resolve");
  fc.assert(
    fc.property(mutatedValue(SEEDS), (input) => {
      const bytes = approximateBytes(input);
      expectClean(parse.run(bytes, () => parseSpec(input)), parse);
      expectClean(plan.run(bytes, () => resolve(input)), plan);
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
  parse.report();
  plan.report();
});
