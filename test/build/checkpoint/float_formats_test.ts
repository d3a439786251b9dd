// bf16/f16 ↔ f32: widening is exact and narrowing rounds to nearest, so every
// 16-bit value survives a round trip and a float32 moves by at most half a step.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  bf16ToF32,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
} from "../../../src/build/checkpoint/float_formats.ts";

const isNaN16 = (bits: number, exponentMask: number) =>
  (bits & exponentMask) === exponentMask && (bits & ~exponentMask & 0x7fff) !== 0;

Deno.test("every bf16 value round-trips through float32", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), (bits) => {
      const wide = bf16ToF32(Uint16Array.of(bits));
      if (isNaN16(bits, 0x7f80)) return Number.isNaN(wide[0]);
      return f32ToBf16(wide)[0] === bits;
    }),
    { numRuns: 2000 },
  );
});

Deno.test("every f16 value round-trips through float32", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), (bits) => {
      const wide = f16ToF32(Uint16Array.of(bits));
      if (isNaN16(bits, 0x7c00)) return Number.isNaN(wide[0]);
      return f32ToF16(wide)[0] === bits;
    }),
    { numRuns: 2000 },
  );
});

Deno.test("f16 widening matches known values", () => {
  assert.deepEqual(
    [...f16ToF32(Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7bff, 0xfc00))],
    [1, -2, 2 ** -24, 65504, -Infinity],
  );
});

Deno.test("narrowing to bf16 or f16 rounds to the nearest representable value", () => {
  fc.assert(
    fc.property(
      fc.float({ noNaN: true, noDefaultInfinity: true, min: -60000, max: 60000 }),
      (x) => {
        const v = Float32Array.of(x);
        const b = bf16ToF32(f32ToBf16(v))[0];
        const h = f16ToF32(f32ToF16(v))[0];
        // bf16 keeps 8 significant bits, f16 11; below the normal range half the smallest step.
        const okB = Math.abs(b - v[0]) <= Math.max(Math.abs(v[0]) * 2 ** -8, 2 ** -134);
        const okH = Math.abs(h - v[0]) <= Math.max(Math.abs(v[0]) * 2 ** -11, 2 ** -25);
        return okB && okH;
      },
    ),
    { numRuns: 2000 },
  );
});
