/**
 * IEEE half-precision conversion for fp16 KV caches and logits, on runtimes
 * without `Float16Array`.
 *
 * @module
 */

import type { OrtTensor } from "./backend.ts";

/**
 * The float32 values of elements `[start, end)` of a float32 or float16
 * tensor: a view for float32, a widened copy for float16.
 */
export function floatValues(tensor: OrtTensor, start = 0, end?: number): Float32Array {
  if (tensor.type === "float16") {
    return float16ToFloat32((tensor.data as Uint16Array).subarray(start, end));
  }
  return (tensor.data as Float32Array).subarray(start, end);
}

/** Converts float16 bit patterns to float32 values. */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) out[i] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) out[i] = mantissa ? NaN : sign * Infinity;
    else out[i] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/** A float tensor whose last axis is the row width, as a row-major float32 matrix. */
export function tensorRows(tensor: OrtTensor): { rows: number; cols: number; data: Float32Array } {
  const cols = tensor.dims[tensor.dims.length - 1];
  const data = floatValues(tensor);
  return { rows: cols === 0 ? 0 : data.length / cols, cols, data };
}
