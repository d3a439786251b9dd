/**
 * `deno task bench`: timings of the pure planning functions (spec resolution,
 * tile planning, full sequence accounting), of image preprocessing (Pillow-
 * exact resampling and the 2048/512 tiling) and of generation with the tiny
 * export on each backend, plus the machine's memory bandwidth and fp32 matmul
 * rate, as JSON on stdout and a table on stderr. Medians of several timed
 * rounds after a warm-up round.
 *
 * @module
 */
import { createRgbImage } from "../src/image/raster.ts";
import { resizeRgb } from "../src/image/resample.ts";
import { tileImage } from "../src/image/processor.ts";
import { loadModel } from "../src/runtime/load_model.ts";
import { resolve } from "../src/spec/resolve.ts";
import { countSequence } from "../src/tokens/sequence.ts";
import { planTiles } from "../src/tokens/tiles.ts";
import { DEFAULT_PRESET, getPreset } from "../variants/mod.ts";
import { matmulFlops, memoryBandwidth } from "./machine_limits.ts";
import { sideBySide } from "./side_by_side.ts";
import jpeg from "jpeg-js";

const ROUNDS = 7;

interface Result {
  name: string;
  iterations: number;
  medianMsPerOp: number;
  minMsPerOp: number;
  maxMsPerOp: number;
  opsPerSec: number;
}

async function bench(
  name: string,
  iterations: number,
  body: (i: number) => unknown,
): Promise<Result> {
  let sink = 0;
  const perOp: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) {
      // Await only real promises: awaiting plain values would time the microtask queue.
      const value = body(i);
      sink += (value instanceof Promise ? await value : value) ? 1 : 0;
    }
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

/**
 * Runs every benchmark; the table goes to stderr and the figures are
 * returned. `model` picks the folder for the transformers.js comparison
 * (default: the tiny export).
 */
export async function runBench(options: { model?: string } = {}): Promise<Record<string, unknown>> {
  const spec = getPreset(DEFAULT_PRESET);
  const plan = resolve(spec);
  const sizes = Array.from({ length: 1024 }, (_, i) => ({
    width: 1 + ((i * 7919) % 8000),
    height: 1 + ((i * 104729) % 6000),
  }));

  // A 640×480 photo-like image (smooth gradients plus texture).
  const photo = createRgbImage(640, 480);
  for (let i = 0; i < photo.data.length; i++) photo.data[i] = (i * 7 + (i >> 9) * 13) & 255;

  const tiny = new URL("../test/fixtures/tiny-idefics3/", import.meta.url);
  const image = new URL("../test/fixtures/images/sources/rgb_noise.png", import.meta.url);
  const wasmModel = await loadModel(tiny, { backend: "wasm" });
  const nativeModel = await loadModel(tiny, { backend: "native" });
  const request = {
    prompt: "What shape is this?",
    images: [image],
    maxNewTokens: 32,
    stopTokenIds: [],
    reusePrefix: false,
  };

  const results = [
    await bench("resolve(smolvlm-256m-instruct)", 2_000, () => resolve(spec)),
    await bench(
      "planTiles",
      200_000,
      (i) => planTiles(sizes[i & 1023].width, sizes[i & 1023].height, spec.image),
    ),
    await bench(
      "countSequence(1 image + prompt)",
      2_000,
      (i) =>
        countSequence(plan, {
          images: [sizes[i & 1023]],
          prompt: "Describe this image in detail.",
        }),
    ),
    await bench(
      "resize 640×480 → 2048×1536 lanczos",
      2,
      () => resizeRgb(photo, 2048, 1536, "lanczos"),
    ),
    await bench("tileImage 640×480 @ 2048/512 (13 tiles)", 2, () => tileImage(photo, spec.image)),
    await bench("tiny export: 32 tokens, wasm", 3, () => wasmModel.generate(request)),
    await bench("tiny export: 32 tokens, native", 3, () => nativeModel.generate(request)),
  ];
  await wasmModel.dispose();
  await nativeModel.dispose();

  // The hardware's limits, measured in the same run.
  const machine = {
    cpus: navigator.hardwareConcurrency,
    memoryBandwidthGBps: memoryBandwidth() / 1e9,
    matmulGflops: {
      native: (await matmulFlops("native")) / 1e9,
      wasm: (await matmulFlops("wasm")) / 1e9,
    },
  };

  console.error(`${"benchmark".padEnd(42)} median µs/op     ops/s`);
  for (const r of results) {
    console.error(
      `${r.name.padEnd(42)} ${(r.medianMsPerOp * 1000).toFixed(2).padStart(12)} ${
        Math.round(r.opsPerSec).toString().padStart(9)
      }`,
    );
  }
  // Side by side with transformers.js on the same folder and a 4000×3000 JPEG
  // (`deno task bench --model DIR` for another folder, e.g. a synthesized SmolVLM-256M).
  const sideModel = options.model ?? tiny.pathname;
  const photoPath = await Deno.makeTempFile({ suffix: ".jpg" });
  {
    const w = 4000;
    const h = 3000;
    const pixels = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      pixels[i * 4] = (i % w) * 255 / w;
      pixels[i * 4 + 1] = Math.floor(i / w) * 255 / h;
      pixels[i * 4 + 2] = (i * 7) & 255;
      pixels[i * 4 + 3] = 255;
    }
    await Deno.writeFile(photoPath, jpeg.encode({ data: pixels, width: w, height: h }, 85).data);
  }
  const transformersJs = await sideBySide(sideModel, photoPath, { runs: 5, maxNewTokens: 32 });
  await Deno.remove(photoPath);
  console.error(`\nvs transformers.js 4.3.1 (${sideModel}, 4000×3000 JPEG, native, medians of 5):`);
  for (const key of Object.keys(transformersJs.ratio) as (keyof typeof transformersJs.ratio)[]) {
    console.error(
      `  ${key.padEnd(20)} vlmkit ${
        (transformersJs.vlmkit[key] ?? 0).toFixed(1).padStart(12)
      }  transformers.js ${
        (transformersJs.transformersJs[key] ?? 0).toFixed(1).padStart(12)
      }  ratio ${transformersJs.ratio[key].toFixed(2)}`,
    );
  }

  console.error(
    `machine: ${machine.cpus} CPUs, memory ${
      machine.memoryBandwidthGBps.toFixed(1)
    } GB/s, fp32 matmul ${machine.matmulGflops.native.toFixed(1)} GFLOP/s native, ${
      machine.matmulGflops.wasm.toFixed(1)
    } GFLOP/s wasm`,
  );
  return { rounds: ROUNDS, deno: Deno.version.deno, machine, results, transformersJs };
}

if (import.meta.main) {
  const modelArg = Deno.args.indexOf("--model");
  const figures = await runBench({ model: modelArg >= 0 ? Deno.args[modelArg + 1] : undefined });
  console.log(JSON.stringify(figures, null, 2));
}
