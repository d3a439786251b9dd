/**
 * The onnxruntime-web WebAssembly binary as a module import, so the wasm
 * backend starts without read permission on the npm cache and without a
 * network fetch. Needs Deno's `raw-imports` (set in deno.json).
 *
 * @module
 */
import wasmBinary from "npm:onnxruntime-web@1.30.0/ort-wasm-simd-threaded.wasm" with {
  type: "bytes",
};

/** The bytes of `ort-wasm-simd-threaded.wasm` from the pinned onnxruntime-web. */
export const ORT_WASM_BINARY: Uint8Array = wasmBinary;
