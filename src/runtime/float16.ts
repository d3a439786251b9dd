/**
 * IEEE half-precision conversion for the float16 boundaries of fp16 exports
 * (KV cache, logits, `inputs_embeds`, `pixel_values`, `image_features`), on
 * runtimes without `Float16Array`.
 *
 * @module
 */

import type { OrtApi, OrtSession, OrtTensor } from "./backend.ts";

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

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Converts float32 values to float16 bit patterns, rounding to nearest even. */
export function float32ToFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    F32[0] = values[i];
    const x = U32[0];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const e = exponent - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00; // overflow to infinity
      continue;
    }
    if (e <= 0) {
      // Subnormal half (or zero): shift the full significand, rounding to nearest even.
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      const full = mantissa | 0x800000;
      const shift = 14 - e;
      const half = full >>> shift;
      const rest = full & ((1 << shift) - 1);
      const midpoint = 1 << (shift - 1);
      const up = rest > midpoint || (rest === midpoint && (half & 1) === 1);
      out[i] = sign | (half + (up ? 1 : 0));
      continue;
    }
    const half = (e << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    const up = rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1);
    // A carry out of the mantissa correctly bumps the exponent (up to infinity).
    out[i] = sign | (half + (up ? 1 : 0));
  }
  return out;
}

/** The element type the session declares for input `name` (float32 when not a tensor or absent). */
export function inputElementType(session: OrtSession, name: string): string {
  const meta = session.inputMetadata.find((m) => m.name === name);
  return meta?.isTensor ? meta.type : "float32";
}

/**
 * A float input tensor of the type the session takes: float32 values as-is,
 * narrowed to float16 when the file's boundary is float16 (published fp16 exports).
 */
export function floatInput(
  ort: OrtApi,
  type: string,
  data: Float32Array,
  dims: readonly number[],
): OrtTensor {
  return type === "float16"
    ? new ort.Tensor("float16", float32ToFloat16(data), dims)
    : new ort.Tensor("float32", data, dims);
}
