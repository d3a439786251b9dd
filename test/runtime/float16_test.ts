// float32 → float16 narrowing used at the fp16 boundaries of published exports.
import assert from "node:assert/strict";
import fc from "fast-check";
import { float16ToFloat32, float32ToFloat16 } from "../../src/runtime/float16.ts";

Deno.test("float16: every non-NaN half survives widening and narrowing bit for bit", () => {
  const bits = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((h) =>
    (h & 0x7c00) !== 0x7c00 || (h & 0x3ff) === 0
  );
  assert.deepEqual(float32ToFloat16(float16ToFloat32(bits)), bits);
  assert.ok(Number.isNaN(float16ToFloat32(float32ToFloat16(new Float32Array([NaN])))[0]));
});

Deno.test("float16: narrowing picks the nearest half (ties to even)", () => {
  fc.assert(fc.property(fc.float({ noNaN: true, min: -65504, max: 65504 }), (x) => {
    const h = float32ToFloat16(new Float32Array([x]))[0];
    const y = float16ToFloat32(new Uint16Array([h]))[0];
    // The halves on either side of the chosen one are no closer to x.
    const neighbours = [h - 1, h + 1].filter((n) =>
      n >= 0 && n <= 0xffff && (n & 0x7c00) !== 0x7c00
    );
    const err = Math.abs(Math.fround(x) - y);
    return neighbours.every((n) => {
      const z = float16ToFloat32(new Uint16Array([n]))[0];
      const other = Math.abs(Math.fround(x) - z);
      return err < other || (err === other && (h & 1) === 0);
    });
  }));
  // 1 + 2^-11 lies exactly between 1 and the next half: ties go to the even mantissa (1).
  assert.equal(float32ToFloat16(new Float32Array([1 + 2 ** -11]))[0], 0x3c00);
  assert.equal(float32ToFloat16(new Float32Array([1e6]))[0], 0x7c00);
  assert.equal(float32ToFloat16(new Float32Array([2 ** -25]))[0], 0);
});
