/**
 * ONNX Runtime's WebAssembly heap after `loadModel` on the wasm backend, next
 * to the bytes of the files it opened sessions for and the largest JS copy of
 * a file held while a session opened: the figures behind the factors of
 * `src/runtime/wasm_memory.ts`. Runs the sources, one model per process (the
 * heap never shrinks), and prints one JSON line.
 *
 *   deno run -A tools/bench/wasm_heap.ts MODEL_FOLDER [DTYPE] [table|session] [auto|original]
 *
 * @module
 */
import { loadModel } from "../../mod.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import { wasmMemoryEstimate } from "../../src/runtime/wasm_memory.ts";
import type { Dtype } from "../../src/spec/types.ts";

const [folder, dtype, embedding = "table", q4Kernel = "auto"] = Deno.args;
// ONNX Runtime's module does not export its memory: catch it as it is made or instantiated.
const memories: WebAssembly.Memory[] = [];
const Memory = WebAssembly.Memory;
// deno-lint-ignore no-explicit-any
(WebAssembly as any).Memory = function (descriptor: WebAssembly.MemoryDescriptor) {
  const memory = new Memory(descriptor);
  memories.push(memory);
  return memory;
};
const instantiate = WebAssembly.instantiate;
// deno-lint-ignore no-explicit-any
(WebAssembly as any).instantiate = async (...args: any[]) => {
  // deno-lint-ignore no-explicit-any
  const r: any = await (instantiate as any)(...args);
  const instance = r instanceof WebAssembly.Instance ? r : r.instance;
  for (const e of Object.values(instance.exports)) {
    if (e instanceof Memory && !memories.includes(e)) memories.push(e);
  }
  return r;
};
const heap = () => memories.reduce((s, m) => s + m.buffer.byteLength, 0);
const hwm = () => {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(status.match(/^VmHWM:\s+(\d+)/m)?.[1]) * 1024;
};

// Each session's bytes as ONNX Runtime gets them (graph + external data), and the heap after.
const sessions: { bytes: number; heapBefore: number; heapAfter: number }[] = [];
const backend = await loadBackend({ backend: "wasm" });
const create = backend.ort.InferenceSession.create;
// deno-lint-ignore no-explicit-any
(backend.ort.InferenceSession as any).create = async (source: any, options: any) => {
  const external = (options?.externalData ?? []) as { data: Uint8Array }[];
  // The model's own bytes are passed as its external data: count each buffer once.
  const buffers = new Set<ArrayBufferLike>([source.buffer, ...external.map((e) => e.data.buffer)]);
  const bytes = [...buffers].reduce((s, b) => s + b.byteLength, 0);
  const heapBefore = heap();
  // deno-lint-ignore no-explicit-any
  const session = await (create as any).call(backend.ort.InferenceSession, source, options);
  sessions.push({ bytes, heapBefore, heapAfter: heap() });
  return session;
};

const model = await loadModel(folder, {
  backend: "wasm",
  ...(dtype ? { dtype: dtype as Dtype } : {}),
  embedding: embedding as "table" | "session",
  q4Kernel: q4Kernel as "auto",
});
const estimate = wasmMemoryEstimate(model.plan, {
  embedding: embedding as "table" | "session",
  q4Kernel: q4Kernel as "auto",
});
const heapBytes = heap();
console.log(JSON.stringify({
  folder,
  dtype: dtype ?? null,
  embedding,
  q4Kernel,
  heapBytes,
  sessionBytes: sessions.reduce((s, x) => s + x.bytes, 0),
  largestSessionBytes: Math.max(...sessions.map((s) => s.bytes)),
  sessions,
  hwmBytes: hwm(),
  rssBytes: Deno.memoryUsage().rss,
  estimate,
  heapPerEstimatedByte: heapBytes / estimate.residentBytes,
}));
await model.dispose();
