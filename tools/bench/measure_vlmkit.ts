/**
 * vlmkit's figures for one configuration (model folder, backend, threads,
 * dtype), measured in a process of its own so that peak RSS belongs to that
 * configuration alone. Prints one JSON line of {@linkcode VlmkitFigures}.
 *
 *   deno run -A tools/bench/measure_vlmkit.ts --model DIR --backend native|wasm \
 *     --threads N --dtype fp32 --photo JPEG --square PNG [--runs 5] [--tokens 128] [--no-photo]
 *
 * After a warm-up request: `runs` unsplit requests on the 512² image that
 * decode `tokens` tokens (time to first token, decode speed), `runs` split
 * requests on the 4000×3000 photo (preprocessing, vision per tile, prefill
 * speed, time to first token), and `runs` second questions about the photo
 * with the feature and KV caches warm. Caches are cleared before every cold
 * request. Medians throughout.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadModel } from "../../src/runtime/load_model.ts";
import type { GenerationResult } from "../../src/runtime/generation_types.ts";
import type { Dtype } from "../../src/spec/types.ts";
import { trackPeakRss } from "./peak_rss.ts";
import { median } from "../median.ts";

/** What one configuration measured (times in ms). */
export interface VlmkitFigures {
  /** `loadModel` wall time. */
  loadMs: number;
  /** Photo: decode, resize, split, normalise. */
  preprocessMs: number | null;
  /** Photo: vision encoder time divided by its tiles. */
  visionMsPerTile: number | null;
  /** Photo: prompt tokens per second of the prefill pass. */
  prefillTokensPerSec: number | null;
  /** 512² image, unsplit: request to first token. */
  ttftSquareMs: number;
  /** Photo, split: request to first token. */
  ttftPhotoMs: number | null;
  /** 512² request: new tokens after the first per second. */
  decodeTokensPerSec: number;
  /** Tokens decoded per unsplit request. */
  decodedTokens: number;
  /** A second question about the photo (features and prefix cached): request to first token. */
  secondQuestionMs: number | null;
  /** Tiles of the split photo (global image included). */
  photoTiles: number | null;
  /** Prompt tokens of the photo request. */
  photoPromptTokens: number | null;
  /** Prompt tokens of the unsplit request. */
  squarePromptTokens: number;
  /** Peak resident memory of the process (VmHWM on Linux, else sampled). */
  peakRssBytes: number;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string" },
      backend: { type: "string", default: "native" },
      threads: { type: "string", default: "2" },
      dtype: { type: "string", default: "fp32" },
      photo: { type: "string" },
      square: { type: "string" },
      runs: { type: "string", default: "5" },
      tokens: { type: "string", default: "128" },
      "no-photo": { type: "boolean", default: false },
    },
  });
  if (!values.model || !values.photo || !values.square) {
    console.error("usage: measure_vlmkit.ts --model DIR --photo JPEG --square PNG [options]");
    Deno.exit(2);
  }
  const rss = trackPeakRss();
  const runs = Number(values.runs);
  const tokens = Number(values.tokens);
  const photo = await Deno.readFile(values.photo);
  const square = await Deno.readFile(values.square);

  const started = performance.now();
  const model = await loadModel(values.model, {
    backend: values.backend === "wasm" ? "wasm" : "native",
    threads: Number(values.threads),
    dtype: values.dtype as Dtype,
  });
  const loadMs = performance.now() - started;
  const prompt = "Describe this image.";
  const cold = async (image: Uint8Array, split: boolean, maxNewTokens: number) => {
    await model.clearCaches();
    return await model.generate({ prompt, images: [image], split, maxNewTokens, stopTokenIds: [] });
  };

  await cold(square, false, 4); // warm-up: sessions, allocator, code paths
  const squareRuns: GenerationResult[] = [];
  for (let i = 0; i < runs; i++) squareRuns.push(await cold(square, false, tokens));

  const photoRuns: GenerationResult[] = [];
  const second: number[] = [];
  if (!values["no-photo"]) {
    for (let i = 0; i < runs; i++) photoRuns.push(await cold(photo, true, 1));
    for (let i = 0; i < runs; i++) {
      const r = await model.generate({
        prompt: `${prompt} Answer in one word (${i}).`,
        images: [photo],
        split: true,
        maxNewTokens: 1,
        stopTokenIds: [],
      });
      if (r.cachedImages !== 1) throw new Error("the second question missed the feature cache");
      second.push(r.timings.ttftMs);
    }
  }
  await model.dispose();
  rss.stop();

  const photoFigure = (f: (r: GenerationResult) => number) =>
    photoRuns.length ? median(photoRuns.map(f)) : null;
  const tiles = photoRuns.length ? photoRuns[0].imageTokens / model.plan.tokensPerTile : null;
  const figures: VlmkitFigures = {
    loadMs,
    preprocessMs: photoFigure((r) => r.timings.preprocessMs),
    visionMsPerTile: photoFigure((r) => r.timings.visionMs / (tiles ?? 1)),
    prefillTokensPerSec: photoFigure((r) => r.promptTokens / (r.timings.prefillMs / 1000)),
    ttftSquareMs: median(squareRuns.map((r) => r.timings.ttftMs)),
    ttftPhotoMs: photoFigure((r) => r.timings.ttftMs),
    decodeTokensPerSec: median(squareRuns.map((r) => r.timings.decodeTokensPerSec)),
    decodedTokens: tokens,
    secondQuestionMs: second.length ? median(second) : null,
    photoTiles: tiles,
    photoPromptTokens: photoRuns[0]?.promptTokens ?? null,
    squarePromptTokens: squareRuns[0].promptTokens,
    peakRssBytes: rss.peak(),
  };
  console.log(JSON.stringify(figures));
}
