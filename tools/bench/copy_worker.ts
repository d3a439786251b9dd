/**
 * A worker of `parallelCopyBandwidth` (`tools/machine_limits.ts`): on each
 * message it copies its own buffer `runs` times and answers with the bytes
 * moved per second (read + write) of its median copy.
 *
 * @module
 */
/// <reference lib="deno.worker" />

self.onmessage = (event: MessageEvent<{ megabytes: number; runs: number }>) => {
  const { megabytes, runs } = event.data;
  const source = new Float64Array((megabytes * 1e6) / 8).fill(1);
  const target = new Float64Array(source.length);
  target.set(source); // fault the pages in before timing
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    target.set(source);
    rates.push((2 * source.byteLength) / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  self.postMessage(rates[rates.length >> 1]);
};
