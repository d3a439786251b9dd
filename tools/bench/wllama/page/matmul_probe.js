// One fp32 MatMul at M = 1 (a decode step's shape) on onnxruntime-web, one wasm thread, timed
// the same way in any host (the wasm-anchor page; tools/bench/wasm_gap.ts under Deno): the
// session's weight bytes divided by a run's time is the rate the kernel streams weights at, to
// set against the host's measured memory bandwidth (bandwidth_probe.js).

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Runs the model `bytes` (input `x` [1, k], every initializer a float32 weight read once per run)
 * `runs` times after a warm-up; `weightBytes` is the weights' size. Returns the median run time
 * and the weight bytes per second it implies.
 */
export async function timeMatmul(ort, bytes, { k, weightBytes, runs = 30, warmup = 5 }) {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
    enableCpuMemArena: false,
    enableMemPattern: false,
  });
  const x = new ort.Tensor("float32", new Float32Array(k).fill(0.5), [1, k]);
  for (let i = 0; i < warmup; i++) await session.run({ x });
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run({ x });
    times.push(performance.now() - t);
  }
  await session.release();
  const ms = median(times);
  return { ms, weightBytesPerSec: weightBytes / (ms / 1000) };
}
