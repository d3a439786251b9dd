/**
 * Frees a buffer's memory now rather than at some later garbage collection:
 * `transfer(0)` detaches it and drops its backing store. For the JS copies
 * of model files and of ONNX Runtime's binary once the runtime has copied
 * them into its own memory: a 138 MB decoder file otherwise stays resident
 * until V8 next collects, which under a small JS heap can be never.
 *
 * @module
 */

/** Detaches the buffer behind `bytes` (only when nothing else may use it). */
export function releaseBuffer(bytes: Uint8Array | ArrayBuffer | undefined): void {
  const buffer = bytes instanceof ArrayBuffer ? bytes : bytes?.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.detached) return;
  // A view of part of a buffer shares it with others: leave that to the collector.
  if (bytes instanceof Uint8Array && bytes.byteLength !== buffer.byteLength) return;
  buffer.transfer?.(0);
}
