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

/**
 * The matmul probe: an encoder MLP's shape ([1024, 768] × [768, 3072] and
 * back, the SigLIP tile's), chained `pairs` times with the weights as
 * initializers, as a model's are (ONNX Runtime prepacks those; two multiplied
 * inputs would time an unpacked path no model layer takes, about a third of
 * this rate here).
 */
export const MLP_MATMUL = { m: 1024, k: 768, n: 3072, pairs: 4 } as const;

/** FLOP of one run of {@linkcode mlpMatmulModel}. */
export const MLP_MATMUL_FLOP = MLP_MATMUL.pairs * 2 * 2 * MLP_MATMUL.m * MLP_MATMUL.k *
  MLP_MATMUL.n;

/**
 * A deterministic fp32 [rows, cols] initializer of unit-scale values, for
 * matmul probes, different for every `name`. A chain of equal weights runs
 * 2–2.5× faster on both backends here although the optimized graph keeps each
 * initializer (ONNX Runtime shares them below the graph), so it would time the
 * cache, not memory.
 */
export function probeWeight(g: GraphBuilder, name: string, rows: number, cols: number): string {
  let phase = 0;
  for (const c of name) phase = (phase * 31 + c.charCodeAt(0)) % 1000;
  return g.weight(name, {
    type: "float32",
    dims: [rows, cols],
    data: Float32Array.from(
      { length: rows * cols },
      (_, i) => Math.cos(i + phase / 7) / Math.sqrt(rows),
    ),
  });
}

/** The probe's ONNX model: input `x` [m, k] → output `y` [m, k]. */
export function mlpMatmulModel(): Uint8Array {
  const { m, k, n, pairs } = MLP_MATMUL;
  const g = new GraphBuilder("matmul");
  let x = g.input("x", "float32", [m, k]);
  const weight = (name: string, rows: number, cols: number) => probeWeight(g, name, rows, cols);
  for (let i = 0; i < pairs; i++) {
    x = g.op("MatMul", [g.op("MatMul", [x, weight(`up${i}`, k, n)]), weight(`down${i}`, n, k)]);
  }
  g.output(x, "y", "float32", [m, k]);
  return serializeModel(g.toModel()).model;
}

/** The probe's input, [m, k]. */
export function mlpMatmulInput(): Float32Array {
  return Float32Array.from({ length: MLP_MATMUL.m * MLP_MATMUL.k }, (_, i) => Math.sin(i));
}

/** FLOP/s of the fp32 matmul probe in ONNX Runtime on `backend`, median of `runs` after a warm-up. */
export async function matmulFlops(backend: BackendName, runs = 5): Promise<number> {
  const api = await loadBackend({ backend });
  const session = await api.createSession({ name: "matmul", bytes: mlpMatmulModel() });
  try {
    const { m, k } = MLP_MATMUL;
    const feeds = { x: new api.ort.Tensor("float32", mlpMatmulInput(), [m, k]) };
    await session.run(feeds);
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await session.run(feeds);
      rates.push(MLP_MATMUL_FLOP / ((performance.now() - start) / 1000));
    }
    return median(rates);
  } finally {
    await session.release();
  }
}
