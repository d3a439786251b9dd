/**
 * How fast ONNX Runtime streams fp32 weights through one-row MatMuls, the
 * decode step's matmul shape: `pairs` up/down pairs [1, 576] × [576, 1536] ×
 * [1536, 576] chained, weights as initializers (pairs × 7 MB), native on 2
 * threads and wasm on 1. Compare with the copy-based bound the bench uses:
 * weights read by a kernel can stream well above a copy's rate.
 *
 *   deno run -A tools/bench/gemv_stream.ts [pairs=64]
 *
 * @module
 */
import { GraphBuilder } from "../../src/build/onnx_graph.ts";
import { serializeModel } from "../../src/build/onnx_file.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import { median } from "../median.ts";
import { probeWeight } from "../machine_limits.ts";

const [k, n] = [576, 1536];
const pairs = Number(Deno.args[0] ?? 64);
const g = new GraphBuilder("gemv");
let x = g.input("x", "float32", [1, k]);
const weight = (name: string, rows: number, cols: number) => probeWeight(g, name, rows, cols);
for (let i = 0; i < pairs; i++) {
  x = g.op("MatMul", [g.op("MatMul", [x, weight(`up${i}`, k, n)]), weight(`down${i}`, n, k)]);
}
g.output(x, "y", "float32", [1, k]);
const model = serializeModel(g.toModel()).model;
const bytes = pairs * 2 * k * n * 4;
const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const loads = [load()];
for (const backend of ["native", "wasm"] as const) {
  const api = await loadBackend({ backend, threads: backend === "native" ? 2 : 1 });
  const session = await api.createSession({ name: "gemv", bytes: model });
  const input = Float32Array.from({ length: k }, (_, i) => Math.sin(i));
  const feeds = { x: new api.ort.Tensor("float32", input, [1, k]) };
  for (let i = 0; i < 5; i++) await session.run(feeds); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < 41; i++) {
    const start = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - start);
  }
  await session.release();
  const m = median(ms);
  console.log(JSON.stringify({
    backend,
    megabytes: Math.round(bytes / 1e6),
    medianMs: +m.toFixed(2),
    gbPerSec: +(bytes / m / 1e6).toFixed(1),
  }));
}
loads.push(load());
console.log(JSON.stringify({ loadavg: loads }));
