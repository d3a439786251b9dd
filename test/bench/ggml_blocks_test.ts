import assert from "node:assert/strict";
import fc from "fast-check";
import { float16ToFloat32 } from "../../src/runtime/float16.ts";
import {
  BLOCK,
  Q4_0_BYTES,
  Q8_0_BYTES,
  quantizeQ4_0,
  quantizeQ8_0,
} from "../../tools/bench/gguf/ggml_blocks.ts";

/** ggml's dequantizers (`dequantize_row_q8_0`, `dequantize_row_q4_0`). */
function dequantize(bytes: Uint8Array, kind: "q8" | "q4"): Float32Array {
  const size = kind === "q8" ? Q8_0_BYTES : Q4_0_BYTES;
  const blocks = bytes.length / size;
  const out = new Float32Array(blocks * BLOCK);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  for (let b = 0; b < blocks; b++) {
    const d = float16ToFloat32(Uint16Array.of(view.getUint16(b * size, true)))[0];
    for (let j = 0; j < BLOCK; j++) {
      if (kind === "q8") {
        out[b * BLOCK + j] = view.getInt8(b * size + 2 + j) * d;
      } else {
        const byte = bytes[b * size + 2 + (j % 16)];
        out[b * BLOCK + j] = ((j < 16 ? byte & 15 : byte >> 4) - 8) * d;
      }
    }
  }
  return out;
}

const rows = fc.integer({ min: 1, max: 4 }).chain((blocks) =>
  fc.float32Array({
    minLength: blocks * BLOCK,
    maxLength: blocks * BLOCK,
    noNaN: true,
    noDefaultInfinity: true,
    min: -1e4,
    max: 1e4,
  })
);

Deno.test("Q8_0 blocks dequantize within half a step (plus the half-precision scale's rounding)", () => {
  fc.assert(fc.property(rows, (values) => {
    const back = dequantize(quantizeQ8_0(values), "q8");
    for (let b = 0; b < values.length / BLOCK; b++) {
      const block = values.subarray(b * BLOCK, (b + 1) * BLOCK);
      const amax = block.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const step = amax / 127;
      for (let j = 0; j < BLOCK; j++) {
        assert.ok(
          Math.abs(back[b * BLOCK + j] - block[j]) <=
            step * 0.5 + amax * 2e-3 + 1e-30,
        );
      }
    }
  }));
});

Deno.test("Q4_0 blocks dequantize within one step, and the largest magnitude maps to −8 exactly", () => {
  fc.assert(fc.property(rows, (values) => {
    const bytes = quantizeQ4_0(values);
    const back = dequantize(bytes, "q4");
    for (let b = 0; b < values.length / BLOCK; b++) {
      const block = values.subarray(b * BLOCK, (b + 1) * BLOCK);
      const amax = block.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const step = amax / 8;
      // Half a step, except that +8·d clamps to nibble 15 (7·d): up to one step there.
      for (let j = 0; j < BLOCK; j++) {
        assert.ok(
          Math.abs(back[b * BLOCK + j] - block[j]) <=
            step + amax * 2e-3 + 1e-30,
        );
      }
    }
  }));
  // A block whose extreme is +2: d = −0.25, so +2 is nibble 0 (−8·d) and −2 clamps to 15.
  const block = new Float32Array(BLOCK);
  block[0] = 2;
  block[1] = -2;
  block[16] = 0.25;
  const q = quantizeQ4_0(block);
  assert.equal(float16ToFloat32(Uint16Array.of(q[0] | (q[1] << 8)))[0], -0.25);
  assert.equal(q[2] & 15, 0);
  assert.equal(q[3] & 15, 15);
  assert.equal(q[2] >> 4, 7); // 0.25 / −0.25 + 8.5 → 7
});

Deno.test("rows that are not whole blocks are refused", () => {
  assert.throws(() => quantizeQ8_0(new Float32Array(48)), RangeError);
  assert.throws(() => quantizeQ4_0(new Float32Array(40)), RangeError);
});
