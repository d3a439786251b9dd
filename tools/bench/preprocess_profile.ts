/**
 * Where preprocessing time goes for the split photo (SmolVLM-256M plan: the
 * 4000×3000 bench JPEG resized to 2048×1536 with Lanczos, 12 tiles of 512 plus
 * the global image), stage by stage, for vlmkit and for transformers.js 4.3.1
 * (its Idefics3 image processor with the same settings), in the same process
 * and the same run. Medians of `--runs` rounds after a warm-up.
 *
 *   deno run -A tools/bench/preprocess_profile.ts [--runs 7]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Idefics3ImageProcessor, RawImage } from "@huggingface/transformers";
import { decodeImage } from "../../src/image/decode.ts";
import { packTiles, tileImage } from "../../src/image/processor.ts";
import { cropRgb } from "../../src/image/raster.ts";
import { resizeRgb } from "../../src/image/resample.ts";
import { planTiles } from "../../src/tokens/tiles.ts";
import { DEFAULT_PRESET, getPreset } from "../../variants/mod.ts";
import { median } from "../median.ts";
import { writeBenchImages } from "./inputs.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "7" } },
});
const runs = Number(values.runs);
const spec = getPreset(DEFAULT_PRESET).image;
const dir = await Deno.makeTempDir({ prefix: "vlmkit-preprocess-" });
const images = await writeBenchImages(dir);
const bytes = await Deno.readFile(images.photo);

const timings = new Map<string, number[]>();
function time<T>(name: string, body: () => T): T {
  const start = performance.now();
  const value = body();
  const list = timings.get(name) ?? [];
  list.push(performance.now() - start);
  timings.set(name, list);
  return value;
}
async function timeAsync<T>(name: string, body: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await body();
  const list = timings.get(name) ?? [];
  list.push(performance.now() - start);
  timings.set(name, list);
  return value;
}

const processor = new Idefics3ImageProcessor({
  do_convert_rgb: true,
  do_resize: true,
  size: { longest_edge: spec.longestEdge },
  resample: 1,
  do_rescale: true,
  rescale_factor: spec.rescaleFactor,
  do_normalize: true,
  image_mean: spec.mean,
  image_std: spec.std,
  do_pad: true,
  do_image_splitting: true,
  max_image_size: { longest_edge: spec.tileSize },
});

for (let round = 0; round <= runs; round++) {
  const record = round > 0;
  // vlmkit, stage by stage (what tileImage + packTiles do, timed apart).
  const pixels = time("vlmkit decode", () => decodeImage(bytes));
  const plan = planTiles(pixels.width, pixels.height, spec, { split: true });
  const stage1 = time(
    "vlmkit resize to 2048",
    () => resizeRgb(pixels, plan.stage1.width, plan.stage1.height, spec.resample),
  );
  const grid = resizeRgb(stage1, plan.resized.width, plan.resized.height, spec.resample);
  const T = spec.tileSize;
  const tiles = time("vlmkit crop tiles", () => {
    const out = [];
    for (let r = 0; r < plan.rows; r++) {
      for (let c = 0; c < plan.cols; c++) out.push(cropRgb(grid, c * T, r * T, T, T));
    }
    return out;
  });
  tiles.push(time("vlmkit global resize", () => resizeRgb(grid, T, T, spec.resample)));
  time("vlmkit normalise+pack", () => packTiles([{ plan, tiles }], spec));
  time("vlmkit total", () => packTiles([tileImage(decodeImage(bytes), spec)], spec));

  // transformers.js: RawImage.read decodes with sharp; the processor resizes with sharp, then
  // rescales, normalises, splits and shrinks the global image in JS.
  const raw = await timeAsync("transformers.js decode", () => RawImage.read(images.photo));
  await timeAsync(
    "transformers.js resize to 2048",
    () => raw.resize(plan.stage1.width, plan.stage1.height, { resample: 1 }),
  );
  await timeAsync("transformers.js processor (resize..pack)", () => processor(raw));
  await timeAsync(
    "transformers.js total",
    async () => processor(await RawImage.read(images.photo)),
  );
  if (!record) timings.clear();
}
await Deno.remove(dir, { recursive: true });
const load = Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
console.log(`split photo 4000×3000 → 2048×1536, 13 tiles; medians of ${runs}; load ${load}`);
for (const [name, list] of timings) {
  console.log(`${name.padEnd(44)} ${median(list).toFixed(1).padStart(8)} ms`);
}
