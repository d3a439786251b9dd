/**
 * Where preprocessing time goes for the split photo (SmolVLM-256M plan: the
 * 4000×3000 bench JPEG resized to 2048×1536 with Lanczos, 12 tiles of 512 plus
 * the global image), stage by stage, for vlmkit (WebAssembly resampler, and
 * the TypeScript fallback) and for transformers.js 4.3.1 (its Idefics3 image
 * processor with the same settings; sharp decodes and resizes), in one process
 * and the same run. Also the bench's "resize 640×480 → 2048×1536 lanczos" on
 * all three. Medians of `--runs` rounds after a warm-up round.
 *
 *   deno run -A tools/bench/preprocess_profile.ts [--photo JPEG] [--runs 7] [--json]
 *
 * Without `--photo` the bench's photo is written to a temporary folder.
 * `--json` prints one JSON line of `PreprocessProfile` (what `deno task bench`
 * reads); otherwise a table.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Idefics3ImageProcessor, RawImage } from "@huggingface/transformers";
import { decodeImage } from "../../src/image/decode.ts";
import { packTiles, tileImage } from "../../src/image/processor.ts";
import { createRgbImage, cropRgb } from "../../src/image/raster.ts";
import { resizeRgb } from "../../src/image/resample.ts";
import { setWasmResampling } from "../../src/image/resample_wasm.ts";
import { planTiles } from "../../src/tokens/tiles.ts";
import { DEFAULT_PRESET, getPreset } from "../../variants/mod.ts";
import { median } from "../median.ts";
import { writeBenchImages } from "./inputs.ts";
import { formatProfile, type PreprocessProfile, STAGES } from "./preprocess_report.ts";

/** Runs the profile on the JPEG at `photo`. */
export async function profilePreprocessing(
  photo: string,
  runs: number,
): Promise<PreprocessProfile> {
  const spec = getPreset(DEFAULT_PRESET).image;
  const bytes = await Deno.readFile(photo);
  const timings = new Map<string, number[]>();
  const record = (name: string, ms: number) => {
    const list = timings.get(name) ?? [];
    list.push(ms);
    timings.set(name, list);
  };
  const time = <T>(name: string, body: () => T): T => {
    const start = performance.now();
    const value = body();
    record(name, performance.now() - start);
    return value;
  };
  const timeAsync = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const value = await body();
    record(name, performance.now() - start);
    return value;
  };

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
  // The in-process bench's 640×480 picture.
  const small = createRgbImage(640, 480);
  for (let i = 0; i < small.data.length; i++) small.data[i] = (i * 7 + (i >> 9) * 13) & 255;
  const smallRaw = new RawImage(small.data, 640, 480, 3);
  const T = spec.tileSize;

  for (let round = 0; round <= runs; round++) {
    time(STAGES.resizeWasm, () => resizeRgb(small, 2048, 1536, "lanczos"));
    setWasmResampling(false);
    time(STAGES.resizeTs, () => resizeRgb(small, 2048, 1536, "lanczos"));
    time(STAGES.totalTs, () => packTiles([tileImage(decodeImage(bytes), spec)], spec));
    setWasmResampling(true);
    await timeAsync(STAGES.resizeSharp, () => smallRaw.resize(2048, 1536, { resample: 1 }));

    // vlmkit, stage by stage (what tileImage + packTiles do, timed apart).
    const pixels = time(STAGES.decode, () => decodeImage(bytes));
    const plan = planTiles(pixels.width, pixels.height, spec, { split: true });
    const stage1 = time(
      STAGES.resize,
      () => resizeRgb(pixels, plan.stage1.width, plan.stage1.height, spec.resample),
    );
    const grid = resizeRgb(stage1, plan.resized.width, plan.resized.height, spec.resample);
    const tiles = time(STAGES.crop, () => {
      const out = [];
      for (let r = 0; r < plan.rows; r++) {
        for (let c = 0; c < plan.cols; c++) out.push(cropRgb(grid, c * T, r * T, T, T));
      }
      return out;
    });
    tiles.push(time(STAGES.global, () => resizeRgb(grid, T, T, spec.resample)));
    time(STAGES.pack, () => packTiles([{ plan, tiles }], spec));
    time(STAGES.total, () => packTiles([tileImage(decodeImage(bytes), spec)], spec));

    // transformers.js: RawImage.read decodes with sharp; the processor resizes with sharp, then
    // rescales, normalises, splits and shrinks the global image in JS.
    const raw = await timeAsync(STAGES.theirDecode, () => RawImage.read(photo));
    await timeAsync(
      STAGES.theirResize,
      () => raw.resize(plan.stage1.width, plan.stage1.height, { resample: 1 }),
    );
    await timeAsync(STAGES.theirProcessor, () => processor(raw));
    await timeAsync(STAGES.theirTotal, async () => processor(await RawImage.read(photo)));
    if (round === 0) timings.clear(); // the warm-up round
  }
  const medianMs: Record<string, number> = {};
  for (const name of Object.values(STAGES)) medianMs[name] = median(timings.get(name) ?? [NaN]);
  return { runs, loadAverage: Deno.loadavg(), medianMs };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      photo: { type: "string" },
      runs: { type: "string", default: "7" },
      json: { type: "boolean", default: false },
    },
  });
  let dir: string | undefined;
  let photo = values.photo;
  if (!photo) {
    dir = await Deno.makeTempDir({ prefix: "vlmkit-preprocess-" });
    photo = (await writeBenchImages(dir)).photo;
  }
  const profile = await profilePreprocessing(photo, Number(values.runs));
  if (dir) await Deno.remove(dir, { recursive: true });
  console.log(values.json ? JSON.stringify(profile) : formatProfile(profile));
}
