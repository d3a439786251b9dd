/**
 * Vision encoder per tile, A/B: the builder's fused attention (one QKV matmul,
 * MultiHeadAttention) against the unfused form (the published exports'), on
 * the SmolVLM-256M-shape `vision_encoder` (the graph `synthesize` emits for
 * `DEFAULT_PRESET`, one 512² tile, every patch valid as the runtime sends).
 *
 *   deno run -A tools/bench/vision_tile_ab.ts time [--rounds 7] [--wasm-rounds 3] [--dtypes fp32,int8]
 *   deno run -A tools/bench/vision_tile_ab.ts memory        # one child process per case, VmHWM
 *   deno run -A tools/bench/vision_tile_ab.ts profile [--dtype int8] [--form fused]
 *
 * `time` runs the four native sessions (fp32/int8 × fused/unfused, 2 threads)
 * and chained [1024,768]×[768,3072] fp32 MatMuls round-robin in one process, so the
 * machine's load hits every side alike, and reports medians; then the same on
 * wasm (1 thread). The tile's FLOPs over the MatMul rate is the time the tile
 * would take at the matmul rate. `memory` runs one tile per fresh process
 * (the wasm heap never shrinks) and reports the RSS after loading and the
 * peak, both read by the parent from /proc. `profile` runs ONNX Runtime's
 * profiler on one native tile and sums kernel time by operator type.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { hfVisionEncoderGraph } from "../../src/build/module_graphs.ts";
import type { WeightFormat } from "../../src/build/layers/ops.ts";
import type { VisionAttention } from "../../src/build/layers/vit_attention.ts";
import { serializeModel } from "../../src/build/onnx_file.ts";
import { type Backend, loadBackend, type OrtSession } from "../../src/runtime/backend.ts";
import { resolve } from "../../src/spec/resolve.ts";
import type { Plan } from "../../src/spec/plan.ts";
import { DEFAULT_PRESET, getPreset } from "../../variants/mod.ts";
import { median } from "../median.ts";
import { MLP_MATMUL, MLP_MATMUL_FLOP, mlpMatmulInput, mlpMatmulModel } from "../machine_limits.ts";
import { runWithPeak } from "./child_peak.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    rounds: { type: "string", default: "7" },
    "wasm-rounds": { type: "string", default: "3" },
    dtypes: { type: "string", default: "fp32,int8" },
    dtype: { type: "string", default: "int8" },
    form: { type: "string", default: "fused" },
    child: { type: "string" },
    threads: { type: "string", default: "2" },
  },
});

const PLAN: Plan = resolve(getPreset(DEFAULT_PRESET));
const T = PLAN.spec.image.tileSize;
const FORMS: VisionAttention[] = ["unfused", "fused"];

/** The `vision_encoder` bytes `synthesize(getPreset(DEFAULT_PRESET), { dtype })` writes, in `form`. */
function visionEncoder(dtype: WeightFormat, form: VisionAttention): Uint8Array {
  const built = hfVisionEncoderGraph(PLAN, { seed: 0, format: dtype, visionAttention: form });
  return serializeModel(built.graph.toModel()).model;
}

/** FLOPs of one tile's encoder (matmuls and attention products; 2 per multiply-add). */
function tileFlops(): number {
  const e = PLAN.spec.encoder;
  const s = PLAN.encoder.patchesPerTile;
  const d = e.hidden;
  const perLayer = 2 * s * d * (3 * d + d + 2 * e.mlp) + 2 * 2 * s * s * d;
  return perLayer * e.layers;
}

function tileFeeds(backend: Backend) {
  const pixels = Float32Array.from({ length: 3 * T * T }, (_, i) => Math.sin(i * 0.001));
  return {
    pixel_values: new backend.ort.Tensor("float32", pixels, [1, 1, 3, T, T]),
    pixel_attention_mask: new backend.ort.Tensor(
      "bool",
      new Uint8Array(T * T).fill(1),
      [1, 1, T, T],
    ),
  };
}

async function timed(session: OrtSession, feeds: Record<string, unknown>): Promise<number> {
  const t = performance.now();
  await session.run(feeds as Parameters<OrtSession["run"]>[0]);
  return performance.now() - t;
}

function load(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

async function timeBackend(name: "native" | "wasm", rounds: number, dtypes: WeightFormat[]) {
  const threads = name === "wasm" ? 1 : Number(values.threads);
  const backend = await loadBackend({ backend: name, threads });
  const cases: { label: string; session: OrtSession }[] = [];
  for (const dtype of dtypes) {
    for (const form of FORMS) {
      const session = await backend.createSession({
        name: `${dtype} ${form}`,
        bytes: visionEncoder(dtype, form),
      });
      cases.push({ label: `${dtype} ${form}`, session });
    }
  }
  const mm = await backend.createSession({ name: "matmul", bytes: mlpMatmulModel() });
  const x = new backend.ort.Tensor(
    "float32",
    mlpMatmulInput(),
    [MLP_MATMUL.m, MLP_MATMUL.k],
  );
  const feeds = tileFeeds(backend);
  for (const c of cases) await timed(c.session, feeds); // warm-up (and prepacking)
  await timed(mm, { x });
  const ms: Record<string, number[]> = {};
  const mmMs: number[] = [];
  const loads = [load()];
  for (let r = 0; r < rounds; r++) {
    // Rotate the starting case so no side always runs first in a round.
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + r) % cases.length];
      (ms[c.label] ??= []).push(await timed(c.session, feeds));
      mmMs.push(await timed(mm, { x }));
    }
  }
  loads.push(load());
  for (const c of cases) await c.session.release();
  await mm.release();
  const gflopMm = MLP_MATMUL_FLOP / 1e9;
  const rate = gflopMm / (median(mmMs) / 1000); // GFLOP/s
  const flops = tileFlops() / 1e9;
  const tile = Object.fromEntries(
    Object.entries(ms).map(([k, v]) => [k, {
      medianMs: Math.round(median(v)),
      minMs: Math.round(Math.min(...v)),
      gflops: Math.round(flops / (median(v) / 1000)),
    }]),
  );
  const ratio = (dtype: string, form: string) =>
    ms[`fp32 ${form}`] && ms[`${dtype} ${form}`]
      ? +(median(ms[`fp32 ${form}`]) / median(ms[`${dtype} ${form}`])).toFixed(2)
      : undefined;
  return {
    backend: name,
    threads,
    rounds,
    loadavg: loads,
    tileGflop: +flops.toFixed(1),
    matmul: {
      shape:
        `${MLP_MATMUL.pairs}x ([${MLP_MATMUL.m},${MLP_MATMUL.k}]x[${MLP_MATMUL.k},${MLP_MATMUL.n}], then back to ${MLP_MATMUL.k})`,
      medianMs: +median(mmMs).toFixed(2),
      gflops: Math.round(rate),
      tileMsAtRate: Math.round((flops / rate) * 1000),
    },
    tile,
    int8OverFp32: { unfused: ratio("int8", "unfused"), fused: ratio("int8", "fused") },
  };
}

function status(): { rss: number; hwm: number } {
  const text = Deno.readTextFileSync("/proc/self/status");
  const mib = (field: string) =>
    Math.round(Number(text.match(new RegExp(`^${field}:\\s+(\\d+)`, "m"))?.[1] ?? 0) / 1024);
  return { rss: mib("VmRSS"), hwm: mib("VmHWM") };
}

/**
 * Child: open the model file `path` (native reads it itself; wasm copies it
 * into its heap and the JS copy is dropped), run one tile, print RSS and the
 * high-water mark before and after the run, wait for the parent.
 */
async function child(spec: string) {
  const [name, path] = spec.split(":") as ["native" | "wasm", string];
  const backend = await loadBackend({ backend: name, threads: name === "wasm" ? 1 : 2 });
  const session = await backend.createSession(
    name === "native" ? { name: path, path } : { name: path, bytes: Deno.readFileSync(path) },
  );
  const feeds = tileFeeds(backend);
  const before = status();
  const t = performance.now();
  await session.run(feeds);
  const ms = performance.now() - t;
  const after = status();
  console.log(JSON.stringify({
    rssBeforeTileMiB: before.rss,
    hwmBeforeTileMiB: before.hwm,
    rssAfterTileMiB: after.rss,
    hwmAfterTileMiB: after.hwm,
    tileMs: Math.round(ms),
  }));
  // The parent reads /proc/<pid>/status now; exit when it closes stdin.
  for await (const _ of Deno.stdin.readable) break;
}

/** One child process per backend × dtype × form, each on a model file written here first. */
async function memory(dtypes: WeightFormat[]) {
  const dir = await Deno.makeTempDir();
  const rows = [];
  try {
    for (const dtype of dtypes) {
      for (const form of FORMS) {
        Deno.writeFileSync(`${dir}/${dtype}_${form}.onnx`, visionEncoder(dtype, form));
      }
    }
    for (const name of ["native", "wasm"]) {
      for (const dtype of dtypes) {
        for (const form of FORMS) {
          const script = new URL(import.meta.url).pathname;
          const { json, stderr, code } = await runWithPeak(
            Deno.execPath(),
            ["run", "-A", script, "--child", `${name}:${dir}/${dtype}_${form}.onnx`],
            Deno.cwd(),
          );
          if (!json) throw new Error(`child ${name} ${dtype} ${form} failed (${code}): ${stderr}`);
          const { peakRssBytes, ...figures } = json;
          const peak = Math.round((peakRssBytes as number) / 2 ** 20);
          rows.push({
            case: `${name} ${dtype} ${form}`,
            ...figures,
            peakRssMiB: peak,
            tileGrowthMiB: peak - (figures.rssBeforeTileMiB as number),
            loadavg: load(),
          });
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.log(JSON.stringify({ memory: rows }, null, 1));
}

async function profile(dtype: WeightFormat, form: VisionAttention) {
  const backend = await loadBackend({ backend: "native", threads: Number(values.threads) });
  const dir = await Deno.makeTempDir();
  const ort = backend.ort as unknown as {
    InferenceSession: {
      create(bytes: Uint8Array, options: Record<string, unknown>): Promise<{
        run(feeds: unknown): Promise<unknown>;
        endProfiling(): void;
        release(): Promise<void>;
      }>;
    };
  };
  const session = await ort.InferenceSession.create(visionEncoder(dtype, form), {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: backend.threads,
    interOpNumThreads: 1,
    enableProfiling: true,
    profileFilePrefix: `${dir}/vision`,
  });
  const feeds = tileFeeds(backend);
  await session.run(feeds); // warm-up, excluded below
  await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".json"))!;
  const events = JSON.parse(Deno.readTextFileSync(`${dir}/${file.name}`)) as {
    cat: string;
    name: string;
    dur: number;
    args?: { op_name?: string };
  }[];
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
  const kernels = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
  // The second run's kernels: those after the first run's kernels (same count each run).
  const second = kernels.slice(kernels.length / 2);
  const byType = new Map<string, number>();
  for (const k of second) {
    const op = k.args?.op_name ?? "?";
    byType.set(op, (byType.get(op) ?? 0) + k.dur);
  }
  const total = [...byType.values()].reduce((a, b) => a + b, 0);
  const top = [...byType].sort((a, b) => b[1] - a[1]).map(([op, us]) => ({
    op,
    ms: +(us / 1000).toFixed(1),
    share: +(us / total).toFixed(3),
  }));
  console.log(JSON.stringify(
    {
      dtype,
      form,
      runMs: runs.map((r) => Math.round(r.dur / 1000)),
      kernelMs: Math.round(total / 1000),
      loadavg: load(),
      top,
    },
    null,
    1,
  ));
  await Deno.remove(dir, { recursive: true });
}

const dtypes = values.dtypes!.split(",") as WeightFormat[];
if (values.child) await child(values.child);
else if (positionals[0] === "memory") await memory(dtypes);
else if (positionals[0] === "profile") {
  await profile(values.dtype as WeightFormat, values.form as VisionAttention);
} else {
  const native = await timeBackend("native", Number(values.rounds), dtypes);
  console.log(JSON.stringify(native, null, 1));
  const wasm = await timeBackend("wasm", Number(values["wasm-rounds"]), dtypes);
  console.log(JSON.stringify(wasm, null, 1));
}
