/**
 * `deno task bench`: JSON on stdout, tables on stderr.
 *
 * - Pure functions: spec resolution, tile planning, sequence accounting,
 *   Pillow-exact resampling (WebAssembly and the TypeScript fallback) and
 *   tiling (medians of timed rounds).
 * - Preprocessing of the 4000×3000 photo stage by stage, vlmkit against
 *   transformers.js in one child process (tools/bench/preprocess_profile.ts).
 * - The machine's limits, measured in the same run: memory bandwidth (a large
 *   copy) and the fp32 matmul rate of each backend.
 * - Models, each configuration in its own process: the shipped tiny model on
 *   wasm (1 thread), native and transformers.js 4.3.1; then a synthesized
 *   model of the exact SmolVLM-256M shape in fp32, int8 and q4 on native and
 *   transformers.js, and fp32 on wasm (unsplit figures). Load, preprocessing of
 *   a 4000×3000 JPEG, vision per tile, prefill speed, time to first token (512²
 *   unsplit; the split photo), decode speed over 128 tokens, a second question
 *   with the caches warm, and peak RSS, with ratios to transformers.js and
 *   fractions of the hardware bounds.
 * - `vlm convert` of a full-size SmolVLM-256M BF16 checkpoint: time and peak RSS.
 *
 * - The decoder side by side with llama.cpp (node-llama-cpp's prebuilt CPU
 *   build, installed on first use into `.artifacts/llama-cpp/`): the same
 *   seeded SmolLM2-135M weights as a GGUF file, F32 / Q8_0 / Q4_0 against
 *   vlmkit's fp32 / int8 / q4, a 512-token prompt then `tokens` tokens.
 *
 * - `--section vision` only: the SmolVLM-256M shape's vision-bound figures in
 *   one run (the fp32 matmul rate, then fp32 and int8 on native ×2 and
 *   transformers.js fp32 on the same folders): vision per tile against the
 *   matmul rate, int8 over fp32 vision, the split photo's first token and a
 *   second question against transformers.js.
 *
 * - `--section wasm-anchor` only: the decoder on wasm against llama.cpp compiled
 *   to WebAssembly (wllama, installed on first use into `.artifacts/wllama/`),
 *   both in one headless Chromium page on the same seeded weights
 *   (tools/bench/wasm_anchor.ts).
 *
 * `deno task bench [--quick] [--model DIR] [--runs N] [--tokens N] [--no-llama-cpp]`:
 * --quick measures the tiny model only; --model replaces the synthesized
 * folders (and skips llama.cpp, which needs the seeded weights).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { synthesize } from "../src/build/synthesize.ts";
import { createRgbImage } from "../src/image/raster.ts";
import { resizeRgb } from "../src/image/resample.ts";
import { setWasmResampling } from "../src/image/resample_wasm.ts";
import { tileImage } from "../src/image/processor.ts";
import { openModelFolder } from "../src/runtime/model_folder.ts";
import { describeModelFolder } from "../src/runtime/model_spec.ts";
import type { Plan } from "../src/spec/plan.ts";
import type { WeightFormat } from "../src/build/layers/ops.ts";
import { resolve } from "../src/spec/resolve.ts";
import { weightBytes } from "../src/tokens/memory.ts";
import { countSequence } from "../src/tokens/sequence.ts";
import { planTiles } from "../src/tokens/tiles.ts";
import { DEFAULT_PRESET, getPreset } from "../variants/mod.ts";
import { decodeBytesPerToken, visionFlopsPerTile } from "./bench/bounds.ts";
import { benchConvert } from "./bench/convert_bench.ts";
import { type BenchImages, writeBenchImages } from "./bench/inputs.ts";
import {
  compareWithLlamaCpp,
  type DecoderComparison,
  printLlamaCppTable,
} from "./bench/llama_cpp_side_by_side.ts";
import { benchEdge, type EdgeModel } from "./bench/edge.ts";
import { formatProfile, type PreprocessProfile } from "./bench/preprocess_report.ts";
import { benchWasmAnchor, printWasmAnchorTable } from "./bench/wasm_anchor.ts";
import type { VlmkitFigures } from "./bench/measure_vlmkit.ts";
import { writeFolderAtomically } from "./cli/folder_writer.ts";
import { matmulFlops, memoryBandwidth, parallelCopyBandwidth } from "./machine_limits.ts";
import { type BenchConfig, configLabel, measure, ratios } from "./side_by_side.ts";

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

/** Options of {@linkcode runBench}. */
export interface BenchOptions {
  /** A model folder to measure instead of the synthesized SmolVLM-256M ones. */
  model?: string;
  /** The tiny model only. */
  quick?: boolean;
  /** Timed runs per figure (default 5). */
  runs?: number;
  /** Tokens decoded per unsplit request (default 128). */
  tokens?: number;
  /** Skip the decoder side by side with llama.cpp. */
  noLlamaCpp?: boolean;
  /**
   * Run one section only: `edge` (see tools/bench/edge.ts), `llama-cpp`
   * (the decoder side by side with llama.cpp, without the rest), or
   * `wasm-anchor` (the decoder on wasm against wllama in Chromium), or
   * `vision` (the vision-bound figures of SmolVLM-256M fp32 and int8 on native).
   */
  section?: "edge" | "llama-cpp" | "wasm-anchor" | "vision";
}

/**
 * The folder a section measures at `dtype`: `given` (`--model`), or the
 * SmolVLM-256M shape synthesized into `work` in the published layout.
 */
async function benchFolder(
  work: string,
  dtype: WeightFormat,
  given?: string,
  prefix = "",
): Promise<string> {
  if (given) return given;
  const folder = `${work}/${prefix}smolvlm-256m-${dtype}`;
  const built = synthesize(getPreset(DEFAULT_PRESET), { dtype, layout: "hf-idefics3" });
  await writeFolderAtomically(folder, built.files, false);
  return folder;
}

/**
 * The edge section: the tiny model and SmolVLM-256M int8 and q4 (synthesized
 * here, or `options.model` at those dtypes) through the edge bundle.
 */
async function edgeSection(
  options: BenchOptions,
  images: BenchImages,
  work: string,
) {
  const models: EdgeModel[] = [{
    name: "tiny-smolvlm (shipped)",
    folder: TINY_MODEL.pathname,
  }];
  if (!options.quick) {
    for (const dtype of ["int8", "q4"] as const) {
      const folder = await benchFolder(work, dtype, options.model, "edge-");
      models.push({ name: `${DEFAULT_PRESET} ${dtype}`, folder, dtype });
    }
  }
  // Fewer tokens than the main section: q4 decodes at a few tokens a second on wasm.
  return await benchEdge(models, images, {
    runs: options.runs ?? 3,
    tokens: Math.min(options.tokens ?? 32, 32),
  });
}

/**
 * tools/bench/preprocess_profile.ts in a process of its own: it loads
 * transformers.js (and sharp), which the rest of this process keeps apart.
 */
async function profilePreprocessingInChild(
  photo: string,
  runs: number,
): Promise<PreprocessProfile> {
  const script = new URL("./bench/preprocess_profile.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      script,
      "--photo",
      photo,
      "--runs",
      String(runs),
      "--json",
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (code !== 0) {
    throw new Error(
      `the preprocessing profile failed:\n${new TextDecoder().decode(stderr)}`,
    );
  }
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Runs every benchmark; tables go to stderr and the figures are returned. */
export async function runBench(
  options: BenchOptions = {},
): Promise<Record<string, unknown>> {
  if (options.section === "edge") {
    const work = await Deno.makeTempDir({ prefix: "vlmkit-bench-" });
    try {
      return {
        edge: await edgeSection(options, await writeBenchImages(work), work),
      };
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  }
  const spec = getPreset(DEFAULT_PRESET);
  if (options.section === "vision") return await visionSection(options);
  if (options.section === "wasm-anchor") {
    const work = await Deno.makeTempDir({ prefix: "vlmkit-bench-" });
    try {
      const report = await benchWasmAnchor(spec, {
        work,
        prompt: 512,
        tokens: options.tokens ?? 128,
        runs: options.runs ?? 3,
      });
      printWasmAnchorTable(report);
      return { wasmAnchor: report };
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  }
  if (options.section === "llama-cpp") {
    const work = await Deno.makeTempDir({ prefix: "vlmkit-bench-" });
    try {
      const rows: DecoderComparison[] = [];
      for (const dtype of ["fp32", "int8", "q4"] as const) {
        const folder = `${work}/smolvlm-256m-${dtype}`;
        await writeFolderAtomically(
          folder,
          synthesize(spec, { dtype, layout: "hf-idefics3" }).files,
          false,
        );
        rows.push(
          await compareWithLlamaCpp(spec, folder, dtype, {
            work,
            threads: 2,
            prompt: 512,
            tokens: options.tokens ?? 128,
            runs: options.runs ?? 5,
          }),
        );
        await Deno.remove(folder, { recursive: true });
      }
      printLlamaCppTable(rows);
      return { llamaCpp: rows };
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  }
  const plan = resolve(spec);
  const sizes = Array.from({ length: 1024 }, (_, i) => ({
    width: 1 + ((i * 7919) % 8000),
    height: 1 + ((i * 104729) % 6000),
  }));

  // A 640×480 photo-like image (smooth gradients plus texture).
  const photo = createRgbImage(640, 480);
  for (let i = 0; i < photo.data.length; i++) {
    photo.data[i] = (i * 7 + (i >> 9) * 13) & 255;
  }

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
    await bench("resize 640×480 → 2048×1536 lanczos (TS)", 2, () => {
      // The fallback where WebAssembly SIMD is missing.
      setWasmResampling(false);
      try {
        return resizeRgb(photo, 2048, 1536, "lanczos");
      } finally {
        setWasmResampling(true);
      }
    }),
    await bench(
      "tileImage 640×480 @ 2048/512 (13 tiles)",
      2,
      () => tileImage(photo, spec.image),
    ),
  ];
  console.error(`${"benchmark".padEnd(42)} median µs/op     ops/s`);
  for (const r of results) {
    console.error(
      `${r.name.padEnd(42)} ${(r.medianMsPerOp * 1000).toFixed(2).padStart(12)} ${
        Math.round(r.opsPerSec).toString().padStart(9)
      }`,
    );
  }

  // The hardware's limits, measured in the same run.
  const machine = {
    cpus: navigator.hardwareConcurrency,
    memoryBandwidthGBps: memoryBandwidth() / 1e9,
    // Every core copying at once: the bound of a decode step that reads weights on all threads.
    parallelCopyGBps: (await parallelCopyBandwidth()) / 1e9,
    matmulGflops: {
      native: (await matmulFlops("native")) / 1e9,
      wasm: (await matmulFlops("wasm")) / 1e9,
    },
  };
  console.error(
    `\nmachine: ${machine.cpus} CPUs, memory ${
      machine.memoryBandwidthGBps.toFixed(1)
    } GB/s (one thread copying), ${
      machine.parallelCopyGBps.toFixed(1)
    } GB/s (all copying), fp32 matmul ${machine.matmulGflops.native.toFixed(1)} GFLOP/s native, ${
      machine.matmulGflops.wasm.toFixed(1)
    } GFLOP/s wasm`,
  );

  const work = await Deno.makeTempDir({ prefix: "vlmkit-bench-" });
  try {
    const images = await writeBenchImages(work);
    const runs = options.runs ?? 5;
    // vlmkit's preprocessing against transformers.js's, same photo, same run, own process.
    const preprocessing = await profilePreprocessingInChild(
      images.photo,
      Math.max(runs, 5),
    );
    console.error(`\n${formatProfile(preprocessing)}`);
    const tokens = options.tokens ?? 128;
    const models: ModelReport[] = [];
    const llamaCpp: DecoderComparison[] = [];

    // The shipped tiny model: every backend, and transformers.js.
    models.push(
      await benchModel(
        "tiny-smolvlm (shipped)",
        TINY_MODEL.pathname,
        images,
        machine,
        [
          {
            runtime: "vlmkit",
            backend: "wasm",
            threads: 1,
            dtype: "fp32",
            runs,
            tokens,
          },
          {
            runtime: "vlmkit",
            backend: "native",
            threads: 2,
            dtype: "fp32",
            runs,
            tokens,
          },
          {
            runtime: "transformers.js",
            backend: "native",
            threads: 2,
            dtype: "fp32",
            runs,
            tokens,
          },
        ],
      ),
    );

    // The exact SmolVLM-256M shape, synthesized here (or a folder given with --model).
    if (!options.quick) {
      const dtypes = ["fp32", "int8", "q4"] as const;
      for (const dtype of dtypes) {
        const folder = await benchFolder(work, dtype, options.model);
        const configs: BenchConfig[] = [
          {
            runtime: "vlmkit",
            backend: "native",
            threads: 2,
            dtype,
            runs,
            tokens,
          },
          {
            runtime: "transformers.js",
            backend: "native",
            threads: 2,
            dtype,
            runs,
            tokens,
          },
        ];
        if (dtype === "fp32") {
          // wasm runs a 512² tile about 3× slower than native: the unsplit figures only.
          configs.push({
            runtime: "vlmkit",
            backend: "wasm",
            threads: 1,
            dtype,
            runs,
            tokens,
            noPhoto: true,
          });
        }
        models.push(
          await benchModel(
            `${DEFAULT_PRESET} ${dtype}`,
            folder,
            images,
            machine,
            configs,
            plan,
          ),
        );
        // llama.cpp gets a GGUF of the same seeded weights, so only for synthesized folders.
        if (!options.model && !options.noLlamaCpp) {
          llamaCpp.push(
            await compareWithLlamaCpp(spec, folder, dtype, {
              work,
              threads: 2,
              prompt: 512,
              tokens,
              runs,
            }),
          );
        }
        if (!options.model) await Deno.remove(folder, { recursive: true });
      }
      printLlamaCppTable(llamaCpp);
    }
    // `vlm convert` of a full-size SmolVLM-256M BF16 checkpoint, and `vlm synth` of it: time, peak RSS.
    const convert = options.quick ? undefined : await benchConvert(DEFAULT_PRESET);
    if (convert) {
      console.error(
        `\nconvert ${convert.variant} (BF16 checkpoint ${
          (convert.checkpointBytes / 1e9).toFixed(2)
        } GB` +
          ` → fp32): ${convert.seconds} s, peak RSS ${(convert.peakRssBytes / 1e9).toFixed(2)} GB` +
          `; synth ${convert.synth.seconds} s, peak RSS ${
            (convert.synth.peakRssBytes / 1e9).toFixed(2)
          } GB`,
      );
    }
    const edge = await edgeSection(options, images, work);
    return {
      edge,
      rounds: ROUNDS,
      convert,
      deno: Deno.version.deno,
      machine,
      results,
      preprocessing,
      wasmTwoThreads: {
        available: false,
        reason: "onnxruntime-web starts its worker threads from blob: URLs, which Deno " +
          "does not import; two wasm threads need a browser page (cross-origin isolated)",
      },
      models,
      llamaCpp: options.model || options.noLlamaCpp || options.quick ? null : llamaCpp,
    };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/**
 * The vision section: the fp32 matmul rate of the native backend, then the
 * SmolVLM-256M shape (synthesized, or `options.model`) in fp32 and int8 on
 * native ×2, with transformers.js fp32 on the fp32 folder for the ratios.
 */
async function visionSection(options: BenchOptions): Promise<Record<string, unknown>> {
  const spec = getPreset(DEFAULT_PRESET);
  const plan = resolve(spec);
  const machine = {
    memoryBandwidthGBps: memoryBandwidth() / 1e9,
    parallelCopyGBps: (await parallelCopyBandwidth()) / 1e9,
    matmulGflops: { native: (await matmulFlops("native")) / 1e9, wasm: Number.NaN },
  };
  console.error(`machine: fp32 matmul ${machine.matmulGflops.native.toFixed(1)} GFLOP/s native`);
  const work = await Deno.makeTempDir({ prefix: "vlmkit-bench-" });
  try {
    const images = await writeBenchImages(work);
    const runs = options.runs ?? 3;
    const tokens = options.tokens ?? 32;
    const models: ModelReport[] = [];
    for (const dtype of ["fp32", "int8"] as const) {
      const folder = await benchFolder(work, dtype, options.model);
      const configs: BenchConfig[] = [
        { runtime: "vlmkit", backend: "native", threads: 2, dtype, runs, tokens },
      ];
      // The first-token and second-question targets are against transformers.js fp32.
      if (dtype === "fp32") {
        configs.push({
          runtime: "transformers.js",
          backend: "native",
          threads: 2,
          dtype,
          runs,
          tokens,
        });
      }
      models.push(
        await benchModel(`${DEFAULT_PRESET} ${dtype}`, folder, images, machine, configs, plan),
      );
      if (!options.model) await Deno.remove(folder, { recursive: true });
    }
    const perTile = (dtype: string) =>
      models.find((m) => m.model.endsWith(dtype))?.configs[0].figures.visionMsPerTile ?? null;
    const fp32 = perTile("fp32");
    const int8 = perTile("int8");
    const int8OverFp32 = fp32 !== null && int8 !== null ? fp32 / int8 : null;
    console.error(
      `\nvision per tile: fp32 ${fp32?.toFixed(0)} ms, int8 ${int8?.toFixed(0)} ms: ` +
        `int8 ${int8OverFp32?.toFixed(2)}× fp32 (${
          (visionFlopsPerTile(plan) / 1e9).toFixed(0)
        } GFLOP a tile)`,
    );
    return { vision: { machine, models, int8OverFp32 } };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** One configuration's figures and what they mean against the hardware. */
interface ConfigReport {
  /** e.g. `vlmkit native×2 fp32`. */
  label: string;
  /** The configuration. */
  config: BenchConfig;
  /** Measured figures. */
  figures: VlmkitFigures;
  /** Ours / transformers.js (same dtype), for vlmkit configurations. */
  vsTransformersJs?: Record<string, number | null>;
  /** Vision GFLOP/s as a fraction of the fp32 matmul rate of the backend. */
  visionFractionOfMatmul?: number | null;
  /** Decode tokens/s over the bandwidth bound: weights + KV read per token, at the copy rate of the threads decoding. */
  decodeFractionOfBandwidth?: number;
  /** Peak RSS / weight bytes of the dtype. */
  rssOverWeights?: number;
}

/** Every configuration measured on one model folder. */
interface ModelReport {
  /** Which model. */
  model: string;
  /** Folder measured. */
  folder: string;
  /** Per configuration. */
  configs: ConfigReport[];
}

const TINY_MODEL = new URL("../models/tiny-smolvlm/", import.meta.url);

async function benchModel(
  name: string,
  folder: string,
  images: BenchImages,
  machine: {
    memoryBandwidthGBps: number;
    parallelCopyGBps: number;
    matmulGflops: { native: number; wasm: number };
  },
  configs: BenchConfig[],
  knownPlan?: Plan,
): Promise<ModelReport> {
  const plan = knownPlan ?? await loadPlan(folder);
  const reports: ConfigReport[] = [];
  for (const config of configs) {
    const started = performance.now();
    const figures = await measure(folder, images, config);
    const report: ConfigReport = {
      label: configLabel(config),
      config,
      figures,
    };
    if (config.runtime === "vlmkit") {
      const gflops = machine.matmulGflops[config.backend];
      report.visionFractionOfMatmul = figures.visionMsPerTile === null
        ? null
        : visionFlopsPerTile(plan) / (figures.visionMsPerTile / 1000) / 1e9 /
          gflops;
      const context = figures.squarePromptTokens + figures.decodedTokens / 2;
      // wasm decodes on one thread; native on every core.
      const bandwidth = config.backend === "wasm" || config.threads === 1
        ? machine.memoryBandwidthGBps
        : machine.parallelCopyGBps;
      const bound = (bandwidth * 1e9) /
        decodeBytesPerToken(plan, config.dtype, context);
      report.decodeFractionOfBandwidth = figures.decodeTokensPerSec / bound;
      report.rssOverWeights = figures.peakRssBytes /
        weightBytes(plan.params, config.dtype).total;
    }
    reports.push(report);
    console.error(
      `  ${name}: ${report.label} measured in ${
        ((performance.now() - started) / 1000).toFixed(0)
      } s`,
    );
  }
  const theirs = reports.find((r) => r.config.runtime === "transformers.js");
  if (theirs) {
    for (const r of reports) {
      if (r.config.runtime === "vlmkit") {
        r.vsTransformersJs = ratios(r.figures, theirs.figures);
      }
    }
  }
  printModelTable(name, reports);
  return { model: name, folder, configs: reports };
}

/** The Plan of a model folder, from its configs alone (no sessions are opened). */
async function loadPlan(folder: string): Promise<Plan> {
  return resolve((await describeModelFolder(openModelFolder(folder))).spec);
}

const ROWS: [string, keyof VlmkitFigures, (v: number) => string][] = [
  ["load", "loadMs", (v) => `${(v / 1000).toFixed(2)} s`],
  ["preprocess 4000×3000 JPEG", "preprocessMs", (v) => `${v.toFixed(0)} ms`],
  ["vision per tile", "visionMsPerTile", (v) => `${v.toFixed(1)} ms`],
  ["prefill", "prefillTokensPerSec", (v) => `${v.toFixed(0)} tok/s`],
  ["first token, 512² unsplit", "ttftSquareMs", (v) => `${v.toFixed(0)} ms`],
  ["first token, split photo", "ttftPhotoMs", (v) => `${v.toFixed(0)} ms`],
  ["decode", "decodeTokensPerSec", (v) => `${v.toFixed(1)} tok/s`],
  ["second question (cached)", "secondQuestionMs", (v) => `${v.toFixed(0)} ms`],
  ["peak RSS", "peakRssBytes", (v) => `${(v / 1e9).toFixed(2)} GB`],
];

function printModelTable(name: string, reports: ConfigReport[]): void {
  const width = 27;
  console.error(
    `\n${name} (medians of ${reports[0]?.config.runs} runs after a warm-up)`,
  );
  console.error(
    `${"figure".padEnd(28)}${reports.map((r) => r.label.padStart(width + 2)).join("")}`,
  );
  for (const [label, key, format] of ROWS) {
    const cells = reports.map((r) => {
      const value = r.figures[key];
      const ratio = r.vsTransformersJs?.[key];
      const text = typeof value === "number" ? format(value) : "—";
      return `${text}${typeof ratio === "number" ? ` (${ratio.toFixed(2)}×)` : ""}`.padStart(
        width + 2,
      );
    });
    console.error(`${label.padEnd(28)}${cells.join("")}`);
  }
  for (const r of reports.filter((r) => r.config.runtime === "vlmkit")) {
    const vision = r.visionFractionOfMatmul;
    console.error(
      `  ${r.label}: vision ${
        vision == null ? "—" : `${(vision * 100).toFixed(0)}%`
      } of the fp32 matmul rate, decode ${
        ((r.decodeFractionOfBandwidth ?? 0) * 100).toFixed(0)
      }% of the bandwidth bound, peak RSS ${(r.rssOverWeights ?? 0).toFixed(2)}× the weights`,
    );
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string" },
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      tokens: { type: "string" },
      "no-llama-cpp": { type: "boolean", default: false },
      section: { type: "string" },
    },
  });
  const sections = ["edge", "llama-cpp", "wasm-anchor", "vision"];
  if (values.section !== undefined && !sections.includes(values.section)) {
    console.error(
      `unknown --section ${values.section}: the sections are: ${sections.join(", ")}`,
    );
    Deno.exit(2);
  }
  const figures = await runBench({
    section: values.section as BenchOptions["section"],
    model: values.model,
    quick: values.quick,
    runs: values.runs ? Number(values.runs) : undefined,
    tokens: values.tokens ? Number(values.tokens) : undefined,
    noLlamaCpp: values["no-llama-cpp"],
  });
  console.log(JSON.stringify(figures, null, 2));
}
