/**
 * The onnxruntime-web WebAssembly binary, when a bundle embeds it. In the
 * sources it is `undefined`: ONNX Runtime then locates
 * `ort-wasm-simd-threaded.wasm` next to its own module in the npm package
 * (under Deno and Node that is a file read, so read permission is needed).
 * `vlm bundle` substitutes this module with one that carries the bytes, so an
 * edge bundle starts with no permission and no fetch.
 *
 * @module
 */

/** The bytes of `ort-wasm-simd-threaded.wasm`, or `undefined` to let ONNX Runtime find the file. */
export const ORT_WASM_BINARY: Uint8Array | undefined = undefined;
