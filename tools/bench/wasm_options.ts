/**
 * onnxruntime-web's choices that could change speed on one wasm thread, each
 * measured on SmolVLM-256M's int8 sessions (a synthesized folder):
 *
 * - **builds**: the four WebAssembly binaries onnxruntime-web 1.30 ships (the
 *   CPU-only one vlmkit uses, and the JSEP, JSPI and asyncify ones made for
 *   WebGPU), running the CPU provider; and which SIMD instructions each
 *   uses, read by wabt (relaxed SIMD or not).
 * - **session options** on vlmkit's build: vlmkit's (no arena, no memory
 *   pattern), the arena and pattern on, graph optimisation levels, and
 *   free dimension overrides (batch and image count fixed to 1).
 *
 * Each case runs in a process of its own (the wasm heap and the binary are
 * per process), rounds alternate the cases so drift in the machine's load hits
 * all alike, and the figures are medians: one 512² tile of the vision encoder,
 * and a one-row step of the decoder (one token, empty past: every weight
 * matmul at the decode shape, attention nearly free), both as ONNX Runtime
 * runs the files, without vlmkit's graph rewrites. Peak RSS is the child's
 * VmHWM. Prints one JSON document.
 *
 *   deno run -A tools/bench/wasm_options.ts [--folder DIR] [--rounds 3]
 *
 * Without `--folder` an int8 SmolVLM-256M folder is synthesized into a
 * temporary directory.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import wabtInit from "wabt";
import { median } from "../median.ts";
import { runWithPeak } from "./child_peak.ts";
import { WASM_SESSION_OPTIONS } from "../../src/runtime/backend.ts";

/** The onnxruntime-web entry points, one per shipped binary. */
const BUILDS = {
  wasm: {
    binary: "ort-wasm-simd-threaded.wasm",
    load: () => import("npm:onnxruntime-web@1.30.0/wasm"),
  },
  jsep: {
    binary: "ort-wasm-simd-threaded.jsep.wasm",
    load: () => import("npm:onnxruntime-web@1.30.0"),
  },
  jspi: {
    binary: "ort-wasm-simd-threaded.jspi.wasm",
    load: () => import("npm:onnxruntime-web@1.30.0/jspi"),
  },
  asyncify: {
    binary: "ort-wasm-simd-threaded.asyncify.wasm",
    load: () => import("npm:onnxruntime-web@1.30.0/webgpu"),
  },
} as const;
type Build = keyof typeof BUILDS;

/** A case: a build, the session options over vlmkit's, and V8 flags for its process. */
interface Case {
  name: string;
  build: Build;
  options: Record<string, unknown>;
  v8Flags?: string;
}

const CASES: Case[] = [
  { name: "vlmkit (wasm build, no arena, no memory pattern)", build: "wasm", options: {} },
  { name: "jsep build", build: "jsep", options: {} },
  { name: "jspi build", build: "jspi", options: {} },
  { name: "asyncify build", build: "asyncify", options: {} },
  {
    name: "arena and memory pattern on",
    build: "wasm",
    options: { enableCpuMemArena: true, enableMemPattern: true },
  },
  {
    name: "graph optimisation extended",
    build: "wasm",
    options: { graphOptimizationLevel: "extended" },
  },
  { name: "graph optimisation basic", build: "wasm", options: { graphOptimizationLevel: "basic" } },
  {
    name: "free dimensions fixed (batch_size, num_images = 1)",
    build: "wasm",
    options: { freeDimensionOverrides: { batch_size: 1, num_images: 1 } },
  },
  {
    name: "V8: optimizing compiler from the start (--no-liftoff)",
    build: "wasm",
    options: {},
    v8Flags: "--no-liftoff",
  },
];

/** What one child measured. */
interface ChildFigures {
  visionTileMs: number;
  decodeStepMs: number;
  loadMs: number;
  error?: string;
}

interface OrtLike {
  env: { wasm: { numThreads?: number } };
  Tensor: new (type: string, data: unknown, dims: number[]) => unknown;
  InferenceSession: {
    create(bytes: Uint8Array, options: Record<string, unknown>): Promise<{
      inputMetadata: readonly { name: string; shape?: readonly (number | string)[] }[];
      run(feeds: Record<string, unknown>): Promise<unknown>;
    }>;
  };
}

async function child(spec: { folder: string; case: Case }): Promise<ChildFigures> {
  const ort = (await BUILDS[spec.case.build].load()) as unknown as OrtLike;
  ort.env.wasm.numThreads = 1;
  const options = {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
    ...WASM_SESSION_OPTIONS,
    ...spec.case.options,
  };
  const started = performance.now();
  const read = (file: string) => Deno.readFileSync(join(spec.folder, "onnx", file));
  const vision = await ort.InferenceSession.create(read("vision_encoder_int8.onnx"), options);
  const decoder = await ort.InferenceSession.create(
    read("decoder_model_merged_int8.onnx"),
    options,
  );
  const loadMs = performance.now() - started;

  const tile = 512;
  const visionFeeds = {
    pixel_values: new ort.Tensor(
      "float32",
      Float32Array.from({ length: 3 * tile * tile }, (_, i) => Math.sin(i * 0.001)),
      [1, 1, 3, tile, tile],
    ),
    pixel_attention_mask: new ort.Tensor("bool", new Uint8Array(tile * tile).fill(1), [
      1,
      1,
      tile,
      tile,
    ]),
  };
  const visionMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await vision.run(visionFeeds);
    if (i > 0) visionMs.push(performance.now() - t);
  }

  // One token, empty past: every weight matmul at one row.
  const hidden = 576;
  const decoderFeeds: Record<string, unknown> = {
    inputs_embeds: new ort.Tensor(
      "float32",
      Float32Array.from({ length: hidden }, (_, i) => Math.sin(i) * 0.1),
      [1, 1, hidden],
    ),
    attention_mask: new ort.Tensor("int64", BigInt64Array.from([1n]), [1, 1]),
    position_ids: new ort.Tensor("int64", BigInt64Array.from([0n]), [1, 1]),
  };
  for (const input of decoder.inputMetadata) {
    if (!input.name.startsWith("past_key_values.")) continue;
    const dims = (input.shape ?? []).map((
      d,
    ) => (typeof d === "number" ? d : d === "batch_size" ? 1 : 0));
    decoderFeeds[input.name] = new ort.Tensor("float32", new Float32Array(0), dims);
  }
  const stepMs: number[] = [];
  for (let i = 0; i < 33; i++) {
    const t = performance.now();
    await decoder.run(decoderFeeds);
    if (i >= 3) stepMs.push(performance.now() - t);
  }
  return { visionTileMs: median(visionMs), decodeStepMs: median(stepMs), loadMs };
}

/** Which SIMD the binary uses: read with relaxed SIMD off, then on. */
async function simdOf(build: Build): Promise<string> {
  const wabt = await wabtInit();
  const url = import.meta.resolve(`npm:onnxruntime-web@1.30.0/${BUILDS[build].binary}`);
  const bytes = await Deno.readFile(new URL(url));
  const features = { simd: true, threads: true, bulk_memory: true, exceptions: true };
  try {
    wabt.readWasm(bytes, { ...features, relaxed_simd: false }).destroy();
    return "simd128, no relaxed SIMD";
  } catch {
    wabt.readWasm(bytes, { ...features, relaxed_simd: true }).destroy();
    return "relaxed SIMD";
  }
}

async function parent(folder: string, rounds: number) {
  const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  const loads = [load()];
  const runs = new Map<string, (ChildFigures & { peakRssBytes: number })[]>();
  for (let round = 0; round < rounds; round++) {
    for (const c of CASES) {
      const args = [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--child",
        JSON.stringify({ folder, case: c }),
      ];
      const result = await runWithPeak(Deno.execPath(), args, Deno.cwd());
      const figures = (result.json ?? { error: result.stderr.slice(-400) }) as unknown as
        & ChildFigures
        & { peakRssBytes: number };
      if (result.code !== 0 && !figures.error) figures.error = result.stderr.slice(-400);
      runs.set(c.name, [...(runs.get(c.name) ?? []), figures]);
      console.error(`round ${round + 1}: ${c.name}: ${JSON.stringify(figures)}`);
    }
    loads.push(load());
  }
  const simd: Record<string, string> = {};
  for (const build of Object.keys(BUILDS) as Build[]) simd[build] = await simdOf(build);
  const cases = CASES.map((c) => {
    const all = runs.get(c.name)!;
    const ok = all.filter((f) => !f.error);
    if (!ok.length) return { case: c.name, error: all[0].error };
    const m = (key: "visionTileMs" | "decodeStepMs" | "loadMs" | "peakRssBytes") =>
      median(ok.map((f) => f[key]));
    // Other jobs on the machine slow whole stretches of consecutive processes: the best
    // process is the case's speed, the median what a run met.
    const best = (key: "visionTileMs" | "decodeStepMs") => Math.min(...ok.map((f) => f[key]));
    return {
      case: c.name,
      build: c.build,
      options: c.options,
      ...(c.v8Flags ? { v8Flags: c.v8Flags } : {}),
      visionTileMs: {
        median: Math.round(m("visionTileMs")),
        best: Math.round(best("visionTileMs")),
      },
      decodeStepMs: {
        median: +m("decodeStepMs").toFixed(2),
        best: +best("decodeStepMs").toFixed(2),
      },
      loadMs: Math.round(m("loadMs")),
      peakRssMiB: Math.round(m("peakRssBytes") / 2 ** 20),
      perProcess: ok.map((f) => ({
        visionTileMs: Math.round(f.visionTileMs),
        decodeStepMs: +f.decodeStepMs.toFixed(2),
      })),
    };
  });
  console.log(JSON.stringify({ folder, rounds, loadAverage: loads, simd, cases }, null, 2));
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      child: { type: "boolean", default: false },
      folder: { type: "string" },
      rounds: { type: "string", default: "3" },
    },
  });
  if (values.child) {
    const spec = JSON.parse(positionals[0]);
    let figures: ChildFigures;
    try {
      figures = await child(spec);
    } catch (error) {
      figures = {
        visionTileMs: NaN,
        decodeStepMs: NaN,
        loadMs: NaN,
        error: String(error).slice(0, 300),
      };
    }
    console.log(JSON.stringify(figures));
    // The parent reads the peak, then closes stdin.
    await Deno.stdin.read(new Uint8Array(1));
    Deno.exit(0);
  } else {
    let folder = values.folder;
    if (!folder) {
      const { synthesizedFolder } = await import("./synthesized_folder.ts");
      folder = await synthesizedFolder(
        await Deno.makeTempDir({ prefix: "vlmkit-wasm-options-" }),
        "int8",
      );
    }
    await parent(folder, Number(values.rounds));
  }
}
