/**
 * The machine's physical limits, measured in the bench run itself so that
 * speeds can be read as fractions of what the hardware allows: memory
 * bandwidth (a large array copy: every byte read once and written once) and
 * a dense fp32 matmul rate through ONNX Runtime on each backend.
 *
 * @module
 */
import { GraphBuilder } from "../src/build/onnx_graph.ts";
import { serializeModel } from "../src/build/onnx_file.ts";
import { type BackendName, loadBackend } from "../src/runtime/backend.ts";
import { median } from "./median.ts";

/** Bytes per second moved by copying a `megabytes`-sized buffer (read + write), median of `runs`. */
export function memoryBandwidth(megabytes = 512, runs = 5): number {
  const source = new Float64Array((megabytes * 1e6) / 8).fill(1);
  const target = new Float64Array(source.length);
  target.set(source); // fault the pages in before timing
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    target.set(source);
    rates.push((2 * source.byteLength) / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

/**
 * Bytes per second moved by `workers` threads copying at once (each its own
 * `megabytes` buffer, read + write counted): what the memory system gives
 * several cores, the figure a multi-threaded decode step is bounded by.
 */
export async function parallelCopyBandwidth(
  workers = navigator.hardwareConcurrency || 1,
  megabytes = 256,
  runs = 5,
): Promise<number> {
  const url = new URL("./bench/copy_worker.ts", import.meta.url);
  const pool = Array.from({ length: workers }, () => new Worker(url, { type: "module" }));
  try {
    const rates = await Promise.all(pool.map((worker) =>
      new Promise<number>((resolve, reject) => {
        worker.onmessage = (event: MessageEvent<number>) => resolve(event.data);
        worker.onerror = (event) => reject(new Error(event.message));
        worker.postMessage({ megabytes, runs });
      })
    ));
    return rates.reduce((sum, rate) => sum + rate, 0);
  } finally {
    for (const worker of pool) worker.terminate();
  }
}

/** FLOP/s of an n×n×n fp32 MatMul in ONNX Runtime on `backend`, median of `runs` after a warm-up. */
export async function matmulFlops(backend: BackendName, n = 2048, runs = 5): Promise<number> {
  const g = new GraphBuilder("matmul");
  const a = g.input("a", "float32", [n, n]);
  const b = g.input("b", "float32", [n, n]);
  g.output(g.op("MatMul", [a, b]), "c", "float32", [n, n]);
  const api = await loadBackend({ backend });
  const session = await api.createSession({
    name: "matmul",
    bytes: serializeModel(g.toModel()).model,
  });
  try {
    const data = new Float32Array(n * n).map((_, i) => (i % 13) / 13);
    const feeds = {
      a: new api.ort.Tensor("float32", data, [n, n]),
      b: new api.ort.Tensor("float32", data, [n, n]),
    };
    await session.run(feeds);
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await session.run(feeds);
      rates.push((2 * n ** 3) / ((performance.now() - start) / 1000));
    }
    return median(rates);
  } finally {
    await session.release();
  }
}
