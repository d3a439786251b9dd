/**
 * Matmul kernel microbench: one graph of 8 chained matmuls (576→1536→576, the
 * SmolVLM-256M MLP shape) per weight form, timed on onnxruntime-web (wasm,
 * 1 thread) or onnxruntime-node, for M = 1 (a decode step) and M = 256
 * (prefill). Forms: float MatMul, the int8 chain (DynamicQuantizeLinear +
 * MatMulInteger), DynamicQuantizeMatMul, and MatMulNBits (bits 4/8, block
 * 32/64/128, accuracy_level 0/4).
 *
 *   deno run -A tools/bench/matmul_kernels.ts wasm|native [--opt all|basic|disabled] [--arena]
 *     [--threads N] [--only LABEL]
 *
 * `--shapes` sweeps instead the SmolLM2-135M decoder's own matmul shapes (fused
 * QKV 576→960, o 576→576, fused gate/up 576→3072, down 1536→576) at M = 1, 256
 * and 512 (`--m 1,256`), over MatMulNBits 4-bit block sizes 16–128, accuracy
 * levels 0 and 4, with and without zero points, with a bias, beside fp32 MatMul
 * and the int8 chain. Every form of one shape gets its own session (4 matmuls
 * of that shape on the same input, distinct weights); the runs go round-robin
 * over the forms (each round starts at the next form), so machine load falls
 * on all forms alike. Each matmul's time is its kernel time from ONNX
 * Runtime's profiler (for the int8 chain, DynamicQuantizeLinear included),
 * median over `--runs` (default 15) runs, and the process CPU time of the run
 * divided by the matmul count (the ReduceSum sinks included, the same for
 * every form of a shape; thread spinning off so it counts work, not waiting).
 * On a machine shared with other work, kernel times of 2 threads include
 * waits for a preempted worker; CPU time does not. Native only.
 *
 *   deno run -A tools/bench/matmul_kernels.ts native --shapes --threads 2
 *
 * @module
 */
import { GraphBuilder } from "../../src/build/onnx_graph.ts";
import { serializeModel } from "../../src/build/onnx_file.ts";
import process from "node:process";
import { median } from "../median.ts";

const K = 576;
const N = 1536;
const PAIRS = 4;

/** The decoder's matmul shapes (SmolLM2-135M: hidden 576, 9+3+3 heads of 64, MLP 1536). */
const DECODER_SHAPES = [
  { label: "qkv 576→960", k: 576, n: 960 },
  { label: "o 576→576", k: 576, n: 576 },
  { label: "gate_up 576→3072", k: 576, n: 3072 },
  { label: "down 1536→576", k: 1536, n: 576 },
];

/** Matmuls per session in `--shapes`. */
const LAYERS = 4;

interface Form {
  label: string;
  layer(g: GraphBuilder, x: string, name: string, k: number, n: number): string;
}

let seed = 1;
function rand(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const floats = (n: number, scale: number) =>
  Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
const int8s = (n: number) => Int8Array.from({ length: n }, () => Math.floor(rand() * 127) - 63);

const fp32: Form = {
  label: "fp32 MatMul",
  layer: (g, x, name, k, n) =>
    g.op("MatMul", [
      x,
      g.weight(name, { type: "float32", dims: [k, n], data: floats(k * n, 0.05) }),
    ]),
};

const int8: Form = {
  label: "int8 DQL+MatMulInteger",
  layer(g, x, name, k, n) {
    const w = g.weight(name, { type: "int8", dims: [k, n], data: int8s(k * n) });
    const s = g.weight(`${name}_s`, { type: "float32", dims: [n], data: floats(n, 0.001) });
    const z = g.constant("int8", [n], new Int8Array(n));
    const [xq, xs, xz] = g.ops("DynamicQuantizeLinear", [x], {}, {}, 3);
    const p = g.op("MatMulInteger", [xq, w, xz, z]);
    return g.op("Mul", [g.op("Cast", [p], { to: 1 }), g.op("Mul", [xs, s])]);
  },
};

const dqmm: Form = {
  label: "DynamicQuantizeMatMul s8",
  layer(g, x, name, k, n) {
    const w = g.weight(name, { type: "int8", dims: [k, n], data: int8s(k * n) });
    const s = g.weight(`${name}_s`, { type: "float32", dims: [n], data: floats(n, 0.001) });
    const z = g.constant("int8", [n], new Int8Array(n));
    return g.op("DynamicQuantizeMatMul", [x, w, s, z], {}, { domain: "com.microsoft" });
  },
};

// Exact for 4-bit blocks: one integer matmul per block of 32 rows, block scales after.
const blocked: Form = {
  label: "int8 per-block batched",
  layer(g, x, name, k, n) {
    const blocks = Math.ceil(k / 32);
    const w = g.weight(name, {
      type: "int8",
      dims: [blocks, 32, n],
      data: int8s(k * n).map((v) => v % 16),
    });
    const s = g.weight(`${name}_s`, {
      type: "float32",
      dims: [blocks, 1, n],
      data: floats(blocks * n, 0.003),
    });
    const [xq, xs, xz] = g.ops("DynamicQuantizeLinear", [x], {}, {}, 3);
    const xb = g.op("Transpose", [g.op("Reshape", [xq, g.ints([-1, blocks, 32])])], {
      perm: [1, 0, 2],
    });
    const p = g.op("MatMulInteger", [xb, w, xz]);
    const y = g.op("ReduceSum", [g.op("Mul", [g.op("Cast", [p], { to: 1 }), s]), g.ints([0])], {
      keepdims: 0,
    });
    return g.op("Mul", [y, xs]);
  },
};

const bnb4: Form = {
  label: "MatMulBnb4 nf4 blk64",
  layer(g, x, name, k, n) {
    const w = g.weight(name, { type: "uint8", dims: [k * n / 2], data: bytes(k * n / 2) });
    const s = g.weight(`${name}_s`, {
      type: "float32",
      dims: [k * n / 64],
      data: floats(k * n / 64, 0.05),
    });
    return g.op("MatMulBnb4", [x, w, s], { K: k, N: n, block_size: 64, quant_type: 1 }, {
      domain: "com.microsoft",
    });
  },
};

/** MatMulNBits options beyond bits / block / accuracy level. */
interface NBitsOptions {
  /** Store 4-bit zero points (asymmetric blocks); without them the kernel uses 2^(bits−1). */
  zeroPoints?: boolean;
  /** Add a float bias input (input 5). */
  bias?: boolean;
}

function nbits(bits: 4 | 8, block: number, acc: number, options: NBitsOptions = {}): Form {
  const { zeroPoints = true, bias = false } = options;
  const tags = `${zeroPoints ? "" : " sym"}${bias ? " bias" : ""}`;
  return {
    label: `MatMulNBits b${bits} blk${block} acc${acc}${tags}`,
    layer(g, x, name, k, n) {
      const blocks = Math.ceil(k / block);
      const blob = block * bits / 8;
      const w = g.weight(name, {
        type: "uint8",
        dims: [n, blocks, blob],
        data: bytes(n * blocks * blob),
      });
      const s = g.weight(`${name}_s`, {
        type: "float32",
        dims: [n * blocks],
        data: floats(n * blocks, 0.003),
      });
      const zlen = bits === 8 ? n * blocks : n * Math.ceil(blocks / 2);
      const z = zeroPoints
        ? g.weight(`${name}_z`, { type: "uint8", dims: [zlen], data: bytes(zlen) })
        : "";
      const b = bias
        ? g.weight(`${name}_b`, { type: "float32", dims: [n], data: floats(n, 1) })
        : "";
      const inputs = bias ? [x, w, s, z, "", b] : zeroPoints ? [x, w, s, z] : [x, w, s];
      return g.op("MatMulNBits", inputs, {
        K: k,
        N: n,
        bits,
        block_size: block,
        accuracy_level: acc,
      }, { domain: "com.microsoft" });
    },
  };
}

function modelOf(form: Form): Uint8Array {
  const g = new GraphBuilder("bench");
  let x = g.input("x", "float32", ["m", K]);
  for (let i = 0; i < PAIRS; i++) {
    x = form.layer(g, x, `up${i}`, K, N);
    x = form.layer(g, x, `down${i}`, N, K);
  }
  g.output(x, "y", "float32", ["m", K]);
  return serializeModel(g.toModel()).model;
}

const args = Deno.args;
const backend = args[0] ?? "wasm";
const opt = args.includes("--opt") ? args[args.indexOf("--opt") + 1] : "all";
const arena = args.includes("--arena");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const threads = args.includes("--threads") ? Number(args[args.indexOf("--threads") + 1]) : 1;

// deno-lint-ignore no-explicit-any
let ort: any;
if (backend === "wasm") {
  ort = await import("onnxruntime-web/wasm");
  ort.env.wasm.numThreads = 1;
} else {
  ort = await import("onnxruntime-node");
}

if (args.includes("--shapes")) {
  if (backend !== "native") throw new Error("--shapes measures kernel times on native only");
  await sweepShapes();
  Deno.exit(0);
}

const forms: Form[] = [
  fp32,
  int8,
  dqmm,
  blocked,
  bnb4,
  ...[32, 64, 128].flatMap((b) => [nbits(4, b, 0), nbits(4, b, 4)]),
  ...[32, 128].flatMap((b) => [nbits(8, b, 0), nbits(8, b, 4)]),
].filter((f) => !only || f.label.includes(only));

console.log(
  `backend ${backend}, threads ${threads}, opt ${opt}, arena ${arena}, load ${
    Deno.loadavg().map((v) => v.toFixed(2))
  }`,
);
for (const form of forms) {
  const row: string[] = [form.label.padEnd(28)];
  try {
    const session = await ort.InferenceSession.create(modelOf(form), {
      executionProviders: [backend === "wasm" ? "wasm" : "cpu"],
      graphOptimizationLevel: opt,
      enableCpuMemArena: arena,
      enableMemPattern: arena,
      ...(backend === "native" ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    });
    for (const m of [1, 256]) {
      const x = new ort.Tensor("float32", floats(m * K, 1), [m, K]);
      const runs = m === 1 ? 40 : 6;
      await session.run({ x });
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await session.run({ x });
        times.push(performance.now() - t);
      }
      // per matmul
      row.push(`M=${m}: ${(median(times) / (2 * PAIRS)).toFixed(3)} ms`);
    }
    await session.release();
  } catch (e) {
    row.push(`error: ${String((e as Error).message).slice(0, 160)}`);
  }
  console.log(row.join("  "));
}

/** One session per form for `k→n`: `LAYERS` matmuls of x, each summed to a scalar output. */
function shapeModel(form: Form, k: number, n: number): Uint8Array {
  const g = new GraphBuilder("bench");
  const x = g.input("x", "float32", ["m", k]);
  for (let i = 0; i < LAYERS; i++) {
    const y = form.layer(g, x, `w${i}`, k, n);
    g.output(g.op("ReduceSum", [y], { keepdims: 0 }), `y${i}`, "float32", []);
  }
  return serializeModel(g.toModel()).model;
}

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/** Matmul kernel time (µs) of each `model_run` of a profile, in run order. */
function matmulTimes(events: ProfileEvent[]): number[] {
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
  const nodes = events.filter((e) =>
    e.cat === "Node" && e.name.endsWith("_kernel_time") && e.args?.op_name !== "ReduceSum"
  );
  return runs.map((run) =>
    nodes.filter((e) => e.ts >= run.ts && e.ts <= run.ts + run.dur)
      .reduce((sum, e) => sum + e.dur, 0) / LAYERS
  );
}

async function sweepShapes(): Promise<void> {
  const ms = args.includes("--m")
    ? args[args.indexOf("--m") + 1].split(",").map(Number)
    : [1, 256, 512];
  const runs = args.includes("--runs") ? Number(args[args.indexOf("--runs") + 1]) : 15;
  const sweep: Form[] = [
    fp32,
    int8,
    ...[16, 32, 64, 128].flatMap((b) =>
      [4, 0].flatMap((acc) => [nbits(4, b, acc), nbits(4, b, acc, { zeroPoints: false })])
    ),
    nbits(4, 32, 4, { bias: true }),
  ].filter((f) => !only || f.label.includes(only));
  const dir = await Deno.makeTempDir({ prefix: "matmul_kernels_" });
  console.log(
    `native, ${threads} threads, kernel time per matmul (ms), median of ${runs}; ` +
      `load ${Deno.loadavg().map((v) => v.toFixed(2))}`,
  );
  try {
    for (const shape of DECODER_SHAPES) {
      const sessions = [];
      for (const [i, form] of sweep.entries()) {
        sessions.push(
          await ort.InferenceSession.create(shapeModel(form, shape.k, shape.n), {
            executionProviders: ["cpu"],
            intraOpNumThreads: threads,
            interOpNumThreads: 1,
            enableProfiling: true,
            profileFilePrefix: `${dir}/s${i}`,
            extra: { session: { intra_op: { allow_spinning: "0" } } },
          }),
        );
      }
      // Which M each session run had (warm-up runs marked 0), in run order.
      const order: number[][] = sweep.map(() => []);
      // CPU ms per matmul of each timed run, by form and M.
      const cpu = sweep.map(() => new Map<number, number[]>(ms.map((m) => [m, []])));
      for (const m of ms) {
        const x = new ort.Tensor("float32", floats(m * shape.k, 1), [m, shape.k]);
        for (const [i, session] of sessions.entries()) {
          await session.run({ x });
          order[i].push(0);
        }
        for (let r = 0; r < runs; r++) {
          for (let j = 0; j < sessions.length; j++) {
            const i = (r + j) % sessions.length;
            const before = process.cpuUsage();
            await sessions[i].run({ x });
            const used = process.cpuUsage(before);
            cpu[i].get(m)!.push((used.user + used.system) / 1000 / LAYERS);
            order[i].push(m);
          }
        }
      }
      const times: number[][] = [];
      for (const [i, session] of sessions.entries()) {
        await session.endProfiling();
        await session.release();
        const file = [...Deno.readDirSync(dir)].find((f) => f.name.startsWith(`s${i}_`))!;
        const path = `${dir}/${file.name}`;
        times.push(matmulTimes(JSON.parse(Deno.readTextFileSync(path))));
        Deno.removeSync(path);
      }
      const head = ms.map((m) => `M=${m}`.padStart(8)).join("");
      console.log(`\n${shape.label.padEnd(36)}${"kernel ms".padStart(8 * ms.length)}  |  cpu ms`);
      console.log(`${"".padEnd(36)}${head}  |${head}`);
      for (const [i, form] of sweep.entries()) {
        const cells = ms.map((m) => {
          const mine = times[i].filter((_, run) => order[i][run] === m);
          return (median(mine) / 1000).toFixed(3).padStart(8);
        });
        const cpuCells = ms.map((m) => median(cpu[i].get(m)!).toFixed(3).padStart(8));
        console.log(`  ${form.label.padEnd(34)}${cells.join("")}  |${cpuCells.join("")}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.log(`\nload ${Deno.loadavg().map((v) => v.toFixed(2))}`);
}
