/**
 * `deno task bench`: timings of the pure planning functions (spec resolution,
 * tile planning, full sequence accounting) as JSON on stdout and a table on
 * stderr. Medians of several timed rounds after a warm-up round.
 *
 * @module
 */
import { resolve } from "../src/spec/resolve.ts";
import { countSequence } from "../src/tokens/sequence.ts";
import { planTiles } from "../src/tokens/tiles.ts";
import { DEFAULT_PRESET, getPreset } from "../variants/mod.ts";

const ROUNDS = 7;

interface Result {
  name: string;
  iterations: number;
  medianMsPerOp: number;
  minMsPerOp: number;
  maxMsPerOp: number;
  opsPerSec: number;
}

function bench(name: string, iterations: number, body: (i: number) => unknown): Result {
  let sink = 0;
  const perOp: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) sink += body(i) ? 1 : 0;
    const elapsed = performance.now() - start;
    if (round > 0) perOp.push(elapsed / iterations); // round 0 is the warm-up
  }
  if (sink < 0) console.error(sink); // keeps the loop body observable
  perOp.sort((a, b) => a - b);
  const median = perOp[Math.floor(perOp.length / 2)];
  return {
    name,
    iterations,
    medianMsPerOp: median,
    minMsPerOp: perOp[0],
    maxMsPerOp: perOp[perOp.length - 1],
    opsPerSec: 1000 / median,
  };
}

const spec = getPreset(DEFAULT_PRESET);
const plan = resolve(spec);
const sizes = Array.from({ length: 1024 }, (_, i) => ({
  width: 1 + ((i * 7919) % 8000),
  height: 1 + ((i * 104729) % 6000),
}));

const results = [
  bench("resolve(smolvlm-256m-instruct)", 2_000, () => resolve(spec)),
  bench(
    "planTiles",
    200_000,
    (i) => planTiles(sizes[i & 1023].width, sizes[i & 1023].height, spec.image),
  ),
  bench(
    "countSequence(1 image + prompt)",
    2_000,
    (i) =>
      countSequence(plan, { images: [sizes[i & 1023]], prompt: "Describe this image in detail." }),
  ),
];

console.error("benchmark                          median µs/op     ops/s");
for (const r of results) {
  console.error(
    `${r.name.padEnd(34)} ${(r.medianMsPerOp * 1000).toFixed(2).padStart(12)} ${
      Math.round(r.opsPerSec).toString().padStart(9)
    }`,
  );
}
console.log(JSON.stringify({ rounds: ROUNDS, deno: Deno.version.deno, results }, null, 2));
