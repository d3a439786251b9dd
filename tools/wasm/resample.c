/*
 * Pillow's fixed-point separable resampling (libImaging/Resample.c, 8 bits
 * per channel) with WebAssembly SIMD. src/image/resample.ts is the
 * specification: the coefficients are computed there and passed in, so this
 * file only does the integer sums. Integer addition is exact and
 * associative, so summing four lanes at once gives Pillow's bytes.
 *
 * Rebuild src/image/resample_wasm_binary.ts with tools/wasm/build_resample.ts.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define PRECISION_BITS 22
#define HALF (1 << (PRECISION_BITS - 1))

/* Pillow's clip8 on four sums: >> 22, then saturate to 0..255 (negative -> 0, >= 256 -> 255). */
static inline v128_t shift(v128_t acc) { return wasm_i32x4_shr(acc, PRECISION_BITS); }

static inline uint8_t clip8(int32_t acc) {
  if (acc >= (256 << PRECISION_BITS)) return 255;
  if (acc <= 0) return 0;
  return (uint8_t)(acc >> PRECISION_BITS);
}

/* Four bytes at p widened to i32 lanes. */
static inline v128_t load4(const uint8_t *p) {
  v128_t v = wasm_v128_load32_zero(p);
  return wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(v));
}

/*
 * Horizontal pass: `rows` rows of `in_width` pixels of `channels` (1..4)
 * bytes, row stride in_width*channels, into rows of `out_width` pixels.
 * bounds: first source pixel and tap count per output pixel; weights: `taps`
 * per output pixel. Reads up to 3 bytes past the last source pixel: the
 * caller leaves them addressable.
 */
__attribute__((export_name("resample_horizontal"))) void resample_horizontal(
    const uint8_t *src, int32_t rows, int32_t in_width, uint8_t *dst, int32_t out_width,
    int32_t channels, const int32_t *bounds, const int32_t *weights, int32_t taps) {
  const int32_t in_stride = in_width * channels;
  const int32_t out_stride = out_width * channels;
  for (int32_t y = 0; y < rows; y++) {
    const uint8_t *row = src + y * in_stride;
    uint8_t *out = dst + y * out_stride;
    for (int32_t x = 0; x < out_width; x++) {
      const uint8_t *p = row + bounds[2 * x] * channels;
      const int32_t count = bounds[2 * x + 1];
      const int32_t *k = weights + x * taps;
      v128_t acc0 = wasm_i32x4_splat(HALF);
      v128_t acc1 = wasm_i32x4_splat(0);
      int32_t t = 0;
      /* Two independent sums hide the multiply latency. */
      for (; t + 1 < count; t += 2, p += 2 * channels) {
        acc0 = wasm_i32x4_add(acc0, wasm_i32x4_mul(load4(p), wasm_i32x4_splat(k[t])));
        acc1 = wasm_i32x4_add(acc1, wasm_i32x4_mul(load4(p + channels), wasm_i32x4_splat(k[t + 1])));
      }
      if (t < count) acc0 = wasm_i32x4_add(acc0, wasm_i32x4_mul(load4(p), wasm_i32x4_splat(k[t])));
      v128_t v = shift(wasm_i32x4_add(acc0, acc1));
      v128_t n = wasm_i16x8_narrow_i32x4(v, v);
      n = wasm_u8x16_narrow_i16x8(n, n);
      uint32_t bytes = (uint32_t)wasm_i32x4_extract_lane(n, 0);
      uint8_t *o = out + x * channels;
      o[0] = (uint8_t)bytes;
      if (channels > 1) o[1] = (uint8_t)(bytes >> 8);
      if (channels > 2) o[2] = (uint8_t)(bytes >> 16);
      if (channels > 3) o[3] = (uint8_t)(bytes >> 24);
    }
  }
}

/*
 * Vertical pass: `out_height` rows of `row_bytes` bytes; output row y sums
 * source rows bounds[2y] - row_offset .. + bounds[2y+1]. Channel-agnostic:
 * every byte of a row is summed down its column.
 */
__attribute__((export_name("resample_vertical"))) void resample_vertical(
    const uint8_t *src, int32_t row_bytes, uint8_t *dst, int32_t out_height, int32_t row_offset,
    const int32_t *bounds, const int32_t *weights, int32_t taps) {
  for (int32_t y = 0; y < out_height; y++) {
    const uint8_t *first = src + (bounds[2 * y] - row_offset) * row_bytes;
    const int32_t count = bounds[2 * y + 1];
    const int32_t *k = weights + y * taps;
    uint8_t *out = dst + y * row_bytes;
    int32_t x = 0;
    for (; x + 16 <= row_bytes; x += 16) {
      v128_t a0 = wasm_i32x4_splat(HALF), a1 = a0, a2 = a0, a3 = a0;
      const uint8_t *p = first + x;
      for (int32_t t = 0; t < count; t++, p += row_bytes) {
        const v128_t w = wasm_i32x4_splat(k[t]);
        const v128_t v = wasm_v128_load(p);
        const v128_t lo = wasm_u16x8_extend_low_u8x16(v);
        const v128_t hi = wasm_u16x8_extend_high_u8x16(v);
        a0 = wasm_i32x4_add(a0, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(lo), w));
        a1 = wasm_i32x4_add(a1, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(lo), w));
        a2 = wasm_i32x4_add(a2, wasm_i32x4_mul(wasm_u32x4_extend_low_u16x8(hi), w));
        a3 = wasm_i32x4_add(a3, wasm_i32x4_mul(wasm_u32x4_extend_high_u16x8(hi), w));
      }
      const v128_t n0 = wasm_i16x8_narrow_i32x4(shift(a0), shift(a1));
      const v128_t n1 = wasm_i16x8_narrow_i32x4(shift(a2), shift(a3));
      wasm_v128_store(out + x, wasm_u8x16_narrow_i16x8(n0, n1));
    }
    for (; x < row_bytes; x++) {
      int32_t acc = HALF;
      const uint8_t *p = first + x;
      for (int32_t t = 0; t < count; t++, p += row_bytes) acc += (int32_t)*p * k[t];
      out[x] = clip8(acc);
    }
  }
}
