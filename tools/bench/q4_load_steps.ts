/**
 * Where the memory of `loadModel` goes on the wasm backend, step by step:
 * RSS, the JS heap, V8's external memory (array buffers) and the size of
 * ONNX Runtime's WebAssembly memory, before and after each session is
 * created (the "before" of a file follows its read and, for q4, its
 * re-pack). Runs the sources (not the bundle), one model per process.
 *
 *   deno run -A tools/bench/q4_load_steps.ts MODEL_FOLDER DTYPE [original|auto]
 *
 * @module
 */
import { loadModel } from "../../mod.ts";
import { loadBackend } from "../../src/runtime/backend.ts";

const [folder, dtype, q4Kernel = "auto"] = Deno.args;
// ONNX Runtime's module does not export its memory: catch it as it is instantiated.
const memories: WebAssembly.Memory[] = [];
const instantiate = WebAssembly.instantiate;
const keep = (instance: WebAssembly.Instance) => {
  for (const e of Object.values(instance.exports)) {
    if (e instanceof Memory && !memories.includes(e)) memories.push(e);
  }
};
// The threaded build creates its memory in JS and imports it.
const Memory = WebAssembly.Memory;
// deno-lint-ignore no-explicit-any
(WebAssembly as any).Memory = function (descriptor: WebAssembly.MemoryDescriptor) {
  const memory = new Memory(descriptor);
  memories.push(memory);
  return memory;
};
// deno-lint-ignore no-explicit-any
(WebAssembly as any).instantiate = async (...args: any[]) => {
  // deno-lint-ignore no-explicit-any
  const r: any = await (instantiate as any)(...args);
  keep(r instanceof WebAssembly.Instance ? r : r.instance);
  return r;
};

const mib = (b: number) => (b / 2 ** 20).toFixed(0).padStart(5);
const status = () => {
  const text = Deno.readTextFileSync("/proc/self/status");
  const kib = (f: string) => Number(text.match(new RegExp(`^${f}:\\s+(\\d+)`, "m"))?.[1]) * 1024;
  return { hwm: kib("VmHWM") };
};
function log(step: string) {
  const m = Deno.memoryUsage();
  const wasm = memories.reduce((s, x) => s + x.buffer.byteLength, 0);
  console.log(
    `${step.padEnd(48)} rss ${mib(m.rss)} | hwm ${mib(status().hwm)} | wasm ${mib(wasm)} | ` +
      `jsHeap ${mib(m.heapUsed)} | external ${mib(m.external)} MiB`,
  );
}

log("start");
const backend = await loadBackend({ backend: "wasm" });
log("backend loaded");
const create = backend.ort.InferenceSession.create;
// deno-lint-ignore no-explicit-any
(backend.ort.InferenceSession as any).create = async (source: any, options: any) => {
  const data = options?.externalData?.length ? " +external" : "";
  log(`before create (${source.byteLength ?? source} B${data})`);
  // deno-lint-ignore no-explicit-any
  const s = await (create as any).call(backend.ort.InferenceSession, source, options);
  log(`after create`);
  return s;
};
const model = await loadModel(folder, {
  backend: "wasm",
  dtype: dtype as "q4",
  q4Kernel: q4Kernel as "auto",
});
log("loaded");
console.log(
  JSON.stringify(model.q4Kernels.map((r) => [r.file, r.kernel, r.rewritten, Math.round(r.ms)])),
);
await model.dispose();
