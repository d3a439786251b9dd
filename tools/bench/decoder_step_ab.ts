/**
 * A/B of two decoder graphs on the same machine in the same process: one
 * cached decode step (1 new row over a `--past`-token cache) and one prefill
 * pass (`--prompt` rows), timed alternately so load from other processes
 * falls on both sides alike. Prints the median and the minimum per side; on a
 * shared machine the minimum is the steadier figure.
 *
 *   deno run -A tools/bench/decoder_step_ab.ts --a DIR/onnx/decoder_model_merged_q4.onnx \
 *     --b OTHER/onnx/decoder_model_merged_q4.onnx [--threads 2] [--past 512] [--steps 200]
 *
 * `--a-kv` / `--b-kv shared` feed that side's cache the way the runtime does
 * with a shared KV buffer: past buffers of `--capacity` tokens, bound as the
 * present outputs too, so GroupQueryAttention appends in place (native only;
 * graphs with GQA). `--b` defaults to `--a`, for an A/B of the feeding alone.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    a: { type: "string" },
    b: { type: "string" },
    threads: { type: "string", default: "2" },
    past: { type: "string", default: "512" },
    prompt: { type: "string", default: "512" },
    steps: { type: "string", default: "200" },
    prefills: { type: "string", default: "6" },
    "a-kv": { type: "string", default: "copy" },
    "b-kv": { type: "string", default: "copy" },
    capacity: { type: "string", default: "1024" },
  },
});
values.b ??= values.a;
if (!values.a || !values.b) {
  console.error("usage: decoder_step_ab.ts --a MODEL.onnx --b MODEL.onnx [options]");
  Deno.exit(2);
}
const threads = Number(values.threads);
const past = Number(values.past);
const capacity = Number(values.capacity);
const kvModes = [values["a-kv"], values["b-kv"]];
if (kvModes.some((m) => m !== "copy" && m !== "shared") || capacity < past + 1) {
  console.error("--a-kv/--b-kv take copy or shared; --capacity must exceed --past");
  Deno.exit(2);
}

async function open(path: string) {
  const session = await ort.InferenceSession.create(path, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  });
  const meta = session.inputMetadata.find((m) => m.name === "past_key_values.0.key");
  const embeds = session.inputMetadata.find((m) => m.name === "inputs_embeds");
  if (!meta?.isTensor || !embeds?.isTensor) throw new Error(`${path}: not a KV-cache decoder`);
  const kvHeads = Number(meta.shape[1]);
  const headDim = Number(meta.shape[3]);
  const hidden = Number(embeds.shape[2]);
  const layers = session.inputNames.filter((n) => n.endsWith(".key")).length;
  return { session, kvHeads, headDim, hidden, layers };
}

type Opened = Awaited<ReturnType<typeof open>>;

/** Feeds and the outputs to bind: a fresh present per run, or the past buffers themselves. */
interface Run {
  feeds: Record<string, ort.Tensor>;
  fetches?: Record<string, ort.Tensor | null>;
}

function prepare(m: Opened, cached: number, rows: number, kv: string): Run {
  if (kv === "copy") return { feeds: feeds(m, cached, rows) };
  const f = feeds(m, cached, rows, capacity);
  const fetches: Record<string, ort.Tensor | null> = { logits: null };
  for (let i = 0; i < m.layers; i++) {
    for (const part of ["key", "value"]) {
      fetches[`present.${i}.${part}`] = f[`past_key_values.${i}.${part}`];
    }
  }
  return { feeds: f, fetches };
}

function feeds(
  m: Opened,
  cached: number,
  rows: number,
  buffer = cached,
): Record<string, ort.Tensor> {
  let s = 1;
  const noise = (n: number) =>
    Float32Array.from({ length: n }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32 - 0.5;
    });
  const total = cached + rows;
  const f: Record<string, ort.Tensor> = {
    inputs_embeds: new ort.Tensor("float32", noise(rows * m.hidden), [1, rows, m.hidden]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(total).fill(1n), [1, total]),
    position_ids: new ort.Tensor(
      "int64",
      BigInt64Array.from({ length: rows }, (_, i) => BigInt(cached + i)),
      [1, rows],
    ),
  };
  for (let i = 0; i < m.layers; i++) {
    for (const part of ["key", "value"]) {
      f[`past_key_values.${i}.${part}`] = new ort.Tensor(
        "float32",
        noise(m.kvHeads * buffer * m.headDim),
        [1, m.kvHeads, buffer, m.headDim],
      );
    }
  }
  return f;
}

const stats = (ms: number[]) => {
  const sorted = [...ms].sort((x, y) => x - y);
  return { medianMs: sorted[sorted.length >> 1], minMs: sorted[0] };
};

const sides = [await open(values.a), await open(values.b)];
const step = sides.map((m, k) => prepare(m, past, 1, kvModes[k]));
const prefill = sides.map((m, k) => prepare(m, 0, Number(values.prompt), kvModes[k]));
const run = (k: number, r: Run) =>
  r.fetches ? sides[k].session.run(r.feeds, r.fetches) : sides[k].session.run(r.feeds);
const stepMs: number[][] = [[], []];
const prefillMs: number[][] = [[], []];
for (let w = 0; w < 5; w++) for (const k of [0, 1]) await run(k, step[k]);
for (let r = 0; r < Number(values.steps); r++) {
  for (const k of r % 2 ? [1, 0] : [0, 1]) {
    const t = performance.now();
    await run(k, step[k]);
    stepMs[k].push(performance.now() - t);
  }
}
for (let r = 0; r < Number(values.prefills); r++) {
  for (const k of r % 2 ? [1, 0] : [0, 1]) {
    const t = performance.now();
    await run(k, prefill[k]);
    prefillMs[k].push(performance.now() - t);
  }
}
const load = Deno.loadavg()[0];
for (const k of [0, 1]) {
  const s = stats(stepMs[k]);
  const p = stats(prefillMs[k]);
  console.log(JSON.stringify({
    side: k ? "b" : "a",
    model: k ? values.b : values.a,
    kv: kvModes[k],
    past,
    stepMedianMs: +s.medianMs.toFixed(2),
    stepMinMs: +s.minMs.toFixed(2),
    decodeTokPerSecAtMin: +(1000 / s.minMs).toFixed(1),
    prefillMedianMs: +p.medianMs.toFixed(1),
    prefillTokPerSecAtMin: +(Number(values.prompt) * 1000 / p.minMs).toFixed(1),
    loadAverage: load,
  }));
}
await Promise.all(sides.map((m) => m.session.release()));
