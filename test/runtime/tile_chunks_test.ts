// Vision sessions run a few tiles per call: the rows must be exactly those of
// one call over every tile, in tile order, for any tile count and chunk size.
import assert from "node:assert/strict";
import fc from "fast-check";
import { synthesize } from "../../src/build/synthesize.ts";
import { encodeInChunks, tilesPerRun } from "../../src/modules/tile_chunks.ts";
import { OnnxVisionEncoder } from "../../src/modules/onnx_vision_encoder.ts";
import type { FeatureMatrix, PixelBatch } from "../../src/modules/types.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import { getPreset } from "../../variants/mod.ts";

/** A stand-in session: 2 rows of 3 values per tile, derived from the tile's pixels. */
function fakeRun(calls: number[]) {
  return (part: PixelBatch): Promise<FeatureMatrix> => {
    calls.push(part.tiles);
    const perTile = 3 * part.size * part.size;
    const data = new Float32Array(part.tiles * 6);
    for (let t = 0; t < part.tiles; t++) {
      const first = part.data[t * perTile];
      for (let i = 0; i < 6; i++) data[t * 6 + i] = first * 10 + i;
    }
    return Promise.resolve({ rows: part.tiles * 2, cols: 3, data });
  };
}

Deno.test("tile chunks: any chunking gives the rows of one call, with ceil(tiles/chunk) calls", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 17 }),
      fc.integer({ min: 1, max: 20 }),
      async (tiles, chunk) => {
        const size = 2;
        const data = new Float32Array(tiles * 3 * size * size);
        for (let t = 0; t < tiles; t++) data[t * 3 * size * size] = t + 1;
        const whole: number[] = [];
        const expected = await fakeRun(whole)({ tiles, size, data });
        const calls: number[] = [];
        const got = await encodeInChunks({ tiles, size, data }, chunk, fakeRun(calls));
        assert.equal(calls.length, Math.ceil(tiles / chunk));
        assert.ok(calls.every((n) => n <= chunk));
        assert.equal(got.rows, expected.rows);
        assert.deepEqual([...got.data], [...expected.data]);
      },
    ),
  );
});

Deno.test("tile chunks: tiles per call cover about 2048 patch rows, never zero", () => {
  assert.equal(tilesPerRun(1024), 2); // SigLIP-B/16 at 512
  assert.equal(tilesPerRun(729), 2); // SigLIP-SO400M/14 at 384
  assert.equal(tilesPerRun(64), 32);
  assert.equal(tilesPerRun(5000), 1);
  fc.assert(fc.property(fc.integer({ min: 1, max: 100_000 }), (patches) => {
    const n = tilesPerRun(patches);
    return n >= 1 && (n === 1 || n * patches <= 2048);
  }));
});

Deno.test("tile chunks: a real vision encoder gives identical features one tile at a time", async () => {
  const result = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", seed: 3 });
  const file = result.files.find((f) => f.path === "onnx/vision_encoder.onnx")!;
  for (const name of ["native", "wasm"] as const) {
    const backend = await loadBackend({ backend: name });
    const session = await backend.createSession({ name: "vision", bytes: file.bytes });
    try {
      const size = result.spec.image.tileSize;
      const tiles = 5;
      const data = new Float32Array(tiles * 3 * size * size).map((_, i) => Math.sin(i * 0.37));
      const pixels = { tiles, size, data };
      const tokens = result.plan.tokensPerTile;
      const all = await new OnnxVisionEncoder(session, backend.ort, tiles, tokens).encode(pixels);
      const single = await new OnnxVisionEncoder(session, backend.ort, 1, tokens).encode(pixels);
      const pairs = await new OnnxVisionEncoder(session, backend.ort, 2, tokens).encode(pixels);
      assert.equal(single.rows, all.rows);
      assert.deepEqual(single.data, all.data, name);
      assert.deepEqual(pairs.data, all.data, name);
    } finally {
      await session.release();
    }
  }
});
