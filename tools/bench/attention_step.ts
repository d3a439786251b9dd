/**
 * One decode step of attention alone, SmolLM2-135M's 30 layers (9 query
 * heads, 3 KV heads, head 64), at `total` tokens with the cache fed in
 * buffers of `capacity` tokens, as the runtime's KV-rows form feeds it:
 *   - `gqa`: GroupQueryAttention (packed QKV, rotary inside), present sliced to the new row;
 *   - `ops`: the plain ops `src/runtime/attention_ops.ts` writes (RotaryEmbedding, the buffer
 *     and the new row joined, a group's query heads as the rows of one matmul, the buffer's
 *     rows past the valid length masked), the new rows returned as they are;
 *   - `feed`: only the cache fed (what onnxruntime-web's copy of the feeds into its heap costs).
 * Native on 2 threads and wasm on 1, medians of 15 runs; the forms' outputs are compared.
 *
 *   deno run -A tools/bench/attention_step.ts [total=577] [capacity=640]
 *
 * @module
 */
import { float, GraphBuilder } from "../../src/build/onnx_graph.ts";
import { serializeModel } from "../../src/build/onnx_file.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import type { OrtTensor } from "../../src/runtime/ort_api.ts";
import { median } from "../median.ts";

const [LAYERS, HEADS, KV_HEADS, HEAD_DIM, CONTEXT] = [30, 9, 3, 64, 8192];
const GROUP = HEADS / KV_HEADS;
const QKV = (HEADS + 2 * KV_HEADS) * HEAD_DIM;
const total = Number(Deno.args[0] ?? 577);
const capacity = Number(Deno.args[1] ?? 640);
if (!(capacity >= total - 1 && total > 1)) throw new Error("need capacity ≥ total − 1 > 0");

function rotaryTables(g: GraphBuilder) {
  const half = HEAD_DIM / 2;
  const cos = new Float32Array(CONTEXT * half);
  const sin = new Float32Array(CONTEXT * half);
  for (let p = 0; p < CONTEXT; p++) {
    for (let j = 0; j < half; j++) {
      const angle = p * Math.pow(1e5, (-2 * j) / HEAD_DIM);
      cos[p * half + j] = Math.cos(angle);
      sin[p * half + j] = Math.sin(angle);
    }
  }
  return {
    cos: g.constant("float32", [CONTEXT, half], cos),
    sin: g.constant("float32", [CONTEXT, half], sin),
  };
}

/** The graph: shared inputs, per-layer past inputs, new-row outputs and the summed context. */
function attentionGraph(
  name: string,
  layer: (g: GraphBuilder, past: { key: string; value: string }) => {
    context?: string;
    key: string;
    value: string;
  },
): Uint8Array {
  const g = new GraphBuilder(name);
  let sum = "";
  for (let i = 0; i < LAYERS; i++) {
    const past = {
      key: g.input(`past.${i}.key`, "float32", [1, KV_HEADS, capacity, HEAD_DIM]),
      value: g.input(`past.${i}.value`, "float32", [1, KV_HEADS, capacity, HEAD_DIM]),
    };
    const out = layer(g, past);
    g.output(out.key, `new.${i}.key`, "float32", [1, KV_HEADS, "rows", HEAD_DIM]);
    g.output(out.value, `new.${i}.value`, "float32", [1, KV_HEADS, "rows", HEAD_DIM]);
    if (out.context) sum = sum ? g.op("Add", [sum, out.context]) : out.context;
  }
  if (sum) g.output(sum, "context", "float32", [1, 1, HEADS * HEAD_DIM]);
  return serializeModel(g.toModel()).model;
}

function gqaGraph(): Uint8Array {
  let shared: Record<string, string> | undefined;
  return attentionGraph("gqa", (g, past) => {
    shared ??= {
      qkv: g.input("qkv", "float32", [1, 1, QKV]),
      seqlensK: g.input("seqlens_k", "int32", [1]),
      total: g.input("total", "int32", []),
      positions: g.input("position_ids", "int64", [1, 1]),
      bias: g.input("bias", "float32", [1, 1, 1, total]),
      ...rotaryTables(g),
    };
    const s = shared;
    const [context, key, value] = g.ops(
      "GroupQueryAttention",
      [s.qkv, "", "", past.key, past.value, s.seqlensK, s.total, s.cos, s.sin, s.positions, s.bias],
      {
        num_heads: HEADS,
        kv_num_heads: KV_HEADS,
        scale: float(1 / Math.sqrt(HEAD_DIM)),
        do_rotary: 1,
      },
      { domain: "com.microsoft" },
      3,
    );
    const newRow = (present: string) =>
      g.op("Slice", [present, g.ints([total - 1]), g.ints([total]), g.ints([2])]);
    return { context, key: newRow(key), value: newRow(value) };
  });
}

function opsGraph(): Uint8Array {
  let shared: Record<string, string> | undefined;
  return attentionGraph("ops", (g, past) => {
    shared ??= {
      qkv: g.input("qkv", "float32", [1, 1, QKV]),
      positions: g.input("position_ids", "int64", [1, 1]),
      bias: g.input("ops_bias", "float32", [1, 1, 1, capacity + 1]),
      ...rotaryTables(g),
    };
    const s = shared;
    const d = HEAD_DIM;
    const [q, k, v] = g.ops(
      "Split",
      [s.qkv, g.ints([HEADS * d, KV_HEADS * d, KV_HEADS * d])],
      { axis: -1 },
      {},
      3,
    );
    const rotate = (x: string, heads: number) =>
      g.op("RotaryEmbedding", [x, s.positions, s.cos, s.sin], { num_heads: heads }, {
        domain: "com.microsoft",
      });
    // One new row: the query heads of a KV head are its group's rows.
    const query = g.op("Reshape", [rotate(q, HEADS), g.ints([1, KV_HEADS, GROUP, d])]);
    const key = g.op("Reshape", [rotate(k, KV_HEADS), g.ints([1, KV_HEADS, 1, d])]);
    const value = g.op("Reshape", [v, g.ints([1, KV_HEADS, 1, d])]);
    const keys = g.op("Concat", [past.key, key], { axis: 2 });
    const values = g.op("Concat", [past.value, value], { axis: 2 });
    const scores = g.op("FusedMatMul", [query, keys], {
      transB: 1,
      alpha: float(1 / Math.sqrt(d)),
    }, { domain: "com.microsoft" });
    const probs = g.op("Softmax", [g.op("Add", [scores, s.bias])], { axis: -1 });
    const mixed = g.op("MatMul", [probs, values]);
    return { context: g.op("Reshape", [mixed, g.ints([1, 1, HEADS * d])]), key, value };
  });
}

function feedGraph(): Uint8Array {
  return attentionGraph("feed", (g, past) => {
    const row = (x: string) => g.op("Slice", [x, g.ints([0]), g.ints([1]), g.ints([2])]);
    return { key: row(past.key), value: row(past.value) };
  });
}

const wave = (n: number, phase: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase));
for (const backend of ["native", "wasm"] as const) {
  const api = await loadBackend({ backend, threads: backend === "native" ? 2 : 1 });
  const tensor = (type: string, data: unknown, dims: number[]) =>
    new api.ort.Tensor(type as never, data as never, dims) as OrtTensor;
  const feeds: Record<string, OrtTensor> = {
    qkv: tensor("float32", wave(QKV, 0), [1, 1, QKV]),
    position_ids: tensor("int64", BigInt64Array.of(BigInt(total - 1)), [1, 1]),
    seqlens_k: tensor("int32", Int32Array.of(total - 1), [1]),
    total: tensor("int32", Int32Array.of(total), []),
    bias: tensor("float32", new Float32Array(total), [1, 1, 1, total]),
    ops_bias: tensor(
      "float32",
      Float32Array.from(
        { length: capacity + 1 },
        (_, j) => (j < total - 1 || j === capacity ? 0 : -3.4e38),
      ),
      [1, 1, 1, capacity + 1],
    ),
  };
  for (let i = 0; i < LAYERS; i++) {
    for (const [j, part] of ["key", "value"].entries()) {
      const data = wave(KV_HEADS * capacity * HEAD_DIM, i + j / 2);
      feeds[`past.${i}.${part}`] = tensor("float32", data, [1, KV_HEADS, capacity, HEAD_DIM]);
    }
  }
  const contexts: Record<string, Float32Array> = {};
  for (
    const [form, graph] of [["gqa", gqaGraph], ["ops", opsGraph], ["feed", feedGraph]] as const
  ) {
    const session = await api.createSession({ name: form, bytes: graph() });
    const own = Object.fromEntries(session.inputMetadata.map(({ name }) => [name, feeds[name]]));
    for (let i = 0; i < 3; i++) await session.run(own);
    const ms: number[] = [];
    for (let i = 0; i < 15; i++) {
      const start = performance.now();
      const out = await session.run(own);
      ms.push(performance.now() - start);
      if (out.context) contexts[form] = out.context.data as Float32Array;
    }
    await session.release();
    console.log(
      JSON.stringify({ backend, form, total, capacity, medianMs: +median(ms).toFixed(2) }),
    );
  }
  let difference = 0;
  for (let i = 0; i < contexts.gqa.length; i++) {
    difference = Math.max(difference, Math.abs(contexts.gqa[i] - contexts.ops[i]));
  }
  console.log(JSON.stringify({ backend, maxAbsDifference: difference }));
}
