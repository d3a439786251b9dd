// Reading one tensor at a time, in row chunks: every dtype widens to the
// exact float32 values, and transposed reads (torch Linear → the builder's
// [in, out]) are exact across chunk boundaries.
import assert from "node:assert/strict";
import { openCheckpoint } from "../../../src/build/checkpoint/checkpoint.ts";
import { f32ToBf16, f32ToF16 } from "../../../src/build/checkpoint/float_formats.ts";
import { encodeSafetensors } from "../../../src/build/checkpoint/safetensors_header.ts";

// 3000 × 400 float32 is 4.8 MB: more than one 4 MiB read chunk.
const ROWS = 3000;
const COLS = 400;
const values = Float32Array.from({ length: ROWS * COLS }, (_, i) => Math.sin(i) * 100);
const bf16 = f32ToBf16(values);
const f16 = f32ToF16(values);

Deno.test("tensors read back exactly, plain and transposed, in every dtype", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      `${dir}/model.safetensors`,
      encodeSafetensors([
        { name: "f32", dtype: "F32", shape: [ROWS, COLS], bytes: new Uint8Array(values.buffer) },
        { name: "bf16", dtype: "BF16", shape: [ROWS, COLS], bytes: new Uint8Array(bf16.buffer) },
        { name: "f16", dtype: "F16", shape: [ROWS, COLS], bytes: new Uint8Array(f16.buffer) },
        {
          name: "scalar",
          dtype: "F32",
          shape: [],
          bytes: new Uint8Array(Float32Array.of(7).buffer),
        },
      ]),
    );
    const checkpoint = openCheckpoint(dir);
    try {
      const expected = {
        f32: values,
        bf16: new Float32Array(Uint32Array.from(bf16, (b) => b << 16).buffer),
        f16: null as Float32Array | null,
      };
      for (const name of ["f32", "bf16", "f16"] as const) {
        const plain = checkpoint.read(name);
        assert.deepEqual(plain.dims, [ROWS, COLS]);
        if (name === "f16") {
          // f16 keeps 11 significant bits of values up to 100.
          for (let i = 0; i < values.length; i += 997) {
            assert.ok(Math.abs(plain.data[i] - values[i]) <= Math.abs(values[i]) * 2 ** -11 + 1e-7);
          }
          expected.f16 = plain.data;
        } else {
          assert.deepEqual(plain.data, expected[name]);
        }
        const flipped = checkpoint.read(name, true);
        assert.deepEqual(flipped.dims, [COLS, ROWS]);
        const source = expected[name]!;
        for (let r = 0; r < ROWS; r += 7) {
          for (let c = 0; c < COLS; c += 3) {
            assert.equal(flipped.data[c * ROWS + r], source[r * COLS + c], `${name} [${r}, ${c}]`);
          }
        }
        assert.equal(flipped.data[COLS * ROWS - 1], source[ROWS * COLS - 1]);
      }
      assert.deepEqual(checkpoint.read("scalar"), { dims: [], data: Float32Array.of(7) });
    } finally {
      checkpoint.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
