import assert from "node:assert/strict";
import { decodeImage } from "../../src/image/decode.ts";
import { normalizeTiles, tileImage } from "../../src/image/processor.ts";
import type { ImageSpec } from "../../src/spec/types.ts";
import { fixtureBytes, manifest } from "./_fixtures.ts";

function settings(longestEdge: number, tileSize: number, splitting: boolean): ImageSpec {
  return {
    longestEdge,
    tileSize,
    splitting,
    maxTiles: 17,
    resample: "lanczos",
    rescaleFactor: 1 / 255,
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    padToSquare: false,
  };
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("tiles equal the Python Idefics3 processor's pixels (Pillow reference, exact)", async () => {
  assert.ok(manifest.processor.length >= 12);
  for (const c of manifest.processor) {
    // Start from Pillow's decoded pixels so JPEG decoder differences stay out of this test.
    const decoded = manifest.sources.find((s) => s.file === c.source)?.decoded ?? c.source;
    const image = decodeImage(await fixtureBytes(decoded));
    const { plan, tiles } = tileImage(image, settings(c.longestEdge, c.tileSize, c.split));
    assert.deepEqual(plan.stage1, c.resized, `${c.case} stage-1 size`);
    assert.equal(plan.rows, c.rows, `${c.case} rows`);
    assert.equal(plan.cols, c.cols, `${c.case} cols`);
    assert.equal(tiles.length, c.images, `${c.case} tiles`);
    const joined = new Uint8Array(tiles.length * c.tileSize * c.tileSize * 3);
    tiles.forEach((t, i) => joined.set(t.data, i * t.data.length));
    assert.equal(await sha256(joined), c.sha256, `${c.case} pixels`);
  }
});

Deno.test("normalisation writes planar CHW floats: (v/255 - 0.5)/0.5", () => {
  const tile = { width: 2, height: 1, data: new Uint8Array([0, 128, 255, 255, 0, 51]) };
  const out = new Float32Array(6);
  normalizeTiles([tile], settings(64, 2, false), out);
  const expected = [0, 255, 128, 0, 255, 51].map((v) => Math.fround((v / 255 - 0.5) / 0.5));
  out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `index ${i}`));
});
