/**
 * Matmul kernel microbench: one graph of 8 chained matmuls (576→1536→576, the
 * SmolVLM-256M MLP shape) per weight form, timed on onnxruntime-web (wasm,
 * 1 thread) or onnxruntime-node, for M = 1 (a decode step) and M = 256
 * (prefill). Forms: float MatMul, the int8 chain (DynamicQuantizeLinear +
 * MatMulInteger), DynamicQuantizeMatMul, and MatMulNBits (bits 4/8, block
 * 32/64/128, accuracy_level 0/4).
 *
 *   deno run -A tools/bench/matmul_kernels.ts wasm|native [--opt all|basic|disabled] [--arena]
 *
 * @module
 */
import { GraphBuilder } from "../../src/build/onnx_graph.ts";
import { serializeModel } from "../../src/build/onnx_file.ts";
import { median } from "../median.ts";

const K = 576;
const N = 1536;
const PAIRS = 4;

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

function nbits(bits: 4 | 8, block: number, acc: number): Form {
  return {
    label: `MatMulNBits b${bits} blk${block} acc${acc}`,
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
      const z = g.weight(`${name}_z`, { type: "uint8", dims: [zlen], data: bytes(zlen) });
      return g.op("MatMulNBits", [x, w, s, z], {
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

// deno-lint-ignore no-explicit-any
let ort: any;
if (backend === "wasm") {
  ort = await import("onnxruntime-web/wasm");
  ort.env.wasm.numThreads = 1;
} else {
  ort = await import("onnxruntime-node");
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
  `backend ${backend}, opt ${opt}, arena ${arena}, load ${Deno.loadavg().map((v) => v.toFixed(2))}`,
);
for (const form of forms) {
  const row: string[] = [form.label.padEnd(28)];
  try {
    const session = await ort.InferenceSession.create(modelOf(form), {
      executionProviders: [backend === "wasm" ? "wasm" : "cpu"],
      graphOptimizationLevel: opt,
      enableCpuMemArena: arena,
      enableMemPattern: arena,
      ...(backend === "native" ? { intraOpNumThreads: 1, interOpNumThreads: 1 } : {}),
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
