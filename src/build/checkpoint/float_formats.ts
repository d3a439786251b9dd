/**
 * The float element types a checkpoint stores, widened to float32 (the
 * builder's working type), and the narrowing back (round to nearest, ties to
 * even) that tools use to write bf16/f16 checkpoints.
 *
 * @module
 */

const scratch = new DataView(new ArrayBuffer(4));

/** bfloat16 bits → float32: the bits are the float32's upper half. */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

/** float32 → bfloat16 bits, round to nearest even (NaN stays NaN). */
export function f32ToBf16(values: Float32Array): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const w = words[i];
    if ((w & 0x7f800000) === 0x7f800000 && (w & 0x7fffff) !== 0) {
      out[i] = (w >>> 16) | 0x40; // keep a quiet NaN (its payload may sit in the low half)
      continue;
    }
    out[i] = ((w + 0x7fff + ((w >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

/** IEEE half bits → float32 (subnormals, infinities and NaN included). */
export function f16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 31) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/** float32 → IEEE half bits, round to nearest even; overflow gives ±infinity. */
export function f32ToF16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    scratch.setFloat32(0, values[i]);
    const w = scratch.getUint32(0);
    const sign = (w >>> 16) & 0x8000;
    const exponent = (w >>> 23) & 0xff;
    const mantissa = w & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const e = exponent - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      // Subnormal half (or zero): shift the full significand, rounding to nearest even.
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      const significand = mantissa | 0x800000;
      const shift = 14 - e;
      const half = significand >>> shift;
      const rest = significand & ((1 << shift) - 1);
      const midpoint = 1 << (shift - 1);
      const up = rest > midpoint || (rest === midpoint && (half & 1) === 1);
      out[i] = sign | (half + (up ? 1 : 0));
    } else {
      const half = (e << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      const up = rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1);
      out[i] = sign | (half + (up ? 1 : 0)); // a carry into the exponent is the right rounding
    }
  }
  return out;
}
