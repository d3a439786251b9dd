/**
 * llama.cpp's reference block quantizers (`quantize_row_q8_0_ref`,
 * `quantize_row_q4_0_ref` in ggml-quants.c), so a GGUF written here holds the
 * bytes llama.cpp's own `llama-quantize` would write for the same floats.
 * Blocks of 32 values; the scale is stored as IEEE half.
 *
 * @module
 */
import { float32ToFloat16 } from "../../../src/runtime/float16.ts";

const toHalf = (value: number) => float32ToFloat16(Float32Array.of(value))[0];

/** Values per block of Q8_0 and Q4_0. */
export const BLOCK = 32;
/** Bytes per Q8_0 block: a half scale and 32 int8 values. */
export const Q8_0_BYTES = 2 + BLOCK;
/** Bytes per Q4_0 block: a half scale and 32 packed nibbles. */
export const Q4_0_BYTES = 2 + BLOCK / 2;

function checkRow(values: Float32Array): void {
  if (values.length % BLOCK !== 0) {
    throw new RangeError(
      `a quantized row holds a multiple of ${BLOCK} values, got ${values.length}`,
    );
  }
}

/** Q8_0: d = max|x| / 127, q = round(x / d). Float32 arithmetic throughout, as in C. */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  checkRow(values);
  const blocks = values.length / BLOCK;
  const out = new Uint8Array(blocks * Q8_0_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const base = b * BLOCK;
    let amax = 0;
    for (let j = 0; j < BLOCK; j++) amax = Math.max(amax, Math.abs(values[base + j]));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    const offset = b * Q8_0_BYTES;
    view.setUint16(offset, toHalf(d), true);
    for (let j = 0; j < BLOCK; j++) {
      // roundf: halves away from zero.
      const x = Math.fround(values[base + j] * id);
      view.setInt8(offset + 2 + j, Math.sign(x) * Math.round(Math.abs(x)));
    }
  }
  return out;
}

/** Q4_0: d = (the value of largest magnitude) / −8, q = min(15, trunc(x / d + 8.5)). */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  checkRow(values);
  const blocks = values.length / BLOCK;
  const out = new Uint8Array(blocks * Q4_0_BYTES);
  const view = new DataView(out.buffer);
  const half = BLOCK / 2;
  for (let b = 0; b < blocks; b++) {
    const base = b * BLOCK;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < BLOCK; j++) {
      const v = values[base + j];
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const id = d ? Math.fround(1 / d) : 0;
    const offset = b * Q4_0_BYTES;
    view.setUint16(offset, toHalf(d), true);
    const nibble = (v: number) => Math.min(15, Math.trunc(Math.fround(Math.fround(v * id) + 8.5)));
    for (let j = 0; j < half; j++) {
      out[offset + 2 + j] = nibble(values[base + j]) | (nibble(values[base + half + j]) << 4);
    }
  }
  return out;
}
