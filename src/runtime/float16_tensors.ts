/**
 * Keeps float16 tensors as raw `Uint16Array` bits on both backends. Where the
 * runtime has `Float16Array` (Deno 2, recent V8), onnxruntime-common turns the
 * data of every float16 tensor into one — a view the native binding reads as
 * zero bytes ("not enough space") and whose elements are values, not the bits
 * the rest of vlmkit converts. Sessions therefore get feeds and return outputs
 * whose float16 data is a `Uint16Array` over the same memory.
 *
 * @module
 */
import type { OrtSession, OrtTensor } from "./ort_api.ts";

/** Points a float16 tensor's data at a `Uint16Array` view of the same bytes (in place). */
export function asFloat16Bits(tensor: OrtTensor): OrtTensor {
  const data = tensor.data as ArrayBufferView & { length: number };
  if (tensor.type !== "float16" || data instanceof Uint16Array) return tensor;
  // onnxruntime-common keeps CPU data in `cpuData`, which `data` returns.
  (tensor as unknown as { cpuData: Uint16Array }).cpuData = new Uint16Array(
    data.buffer,
    data.byteOffset,
    data.length,
  );
  return tensor;
}

/** Makes `session.run` pass and return float16 data as `Uint16Array` bits. */
export function withFloat16Bits<S extends OrtSession>(session: S): S {
  const run = session.run.bind(session);
  session.run = async (
    feeds: Record<string, OrtTensor>,
    fetches?: Record<string, OrtTensor | null>,
  ) => {
    for (const tensor of Object.values(feeds)) asFloat16Bits(tensor);
    // Preallocated outputs (fetches) are passed on: dropping them would silently copy.
    const out = await (fetches ? run(feeds, fetches) : run(feeds));
    for (const tensor of Object.values(out)) asFloat16Bits(tensor);
    return out;
  };
  return session;
}
