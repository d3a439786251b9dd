// The host side of one onnxruntime-web decode step without the kernels, timed the same way in
// any host: a step's outputs copied out of a shared wasm-like heap into fresh typed arrays (what
// ORT-web does for every output: `new Float32Array(n).set(heap.subarray(...))`), and the next
// step's inputs copied back in (`heap.set(...)`), the previous step's arrays then dropped.

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * `tensors` outputs of `floats` floats each, `steps` steps after `warmup`; the heap is a
 * SharedArrayBuffer when `shared` (as ORT's threaded build has it). Returns the median ms a step.
 */
export function copyOutStep(
  { tensors = 60, floats = 23040, steps = 60, warmup = 10, shared = true },
) {
  const bytes = tensors * floats * 4;
  const heap = new Float32Array(
    shared && typeof SharedArrayBuffer === "function"
      ? new SharedArrayBuffer(2 * bytes)
      : new ArrayBuffer(2 * bytes),
  ).fill(0.5);
  let outputs = [];
  const times = [];
  for (let s = 0; s < warmup + steps; s++) {
    const t = performance.now();
    // The feeds: last step's outputs into the heap.
    for (let i = 0; i < outputs.length; i++) heap.set(outputs[i], bytes / 4 + i * floats);
    const next = [];
    for (let i = 0; i < tensors; i++) {
      const out = new Float32Array(floats);
      out.set(heap.subarray(i * floats, (i + 1) * floats));
      next.push(out);
    }
    outputs = next;
    if (s >= warmup) times.push(performance.now() - t);
  }
  return { msPerStep: median(times), megabytesPerStep: bytes / 1e6 };
}
