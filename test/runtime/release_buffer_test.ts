// Buffers the runtime has copied are freed at once; a view of a shared buffer is left alone.
import assert from "node:assert/strict";
import { releaseBuffer } from "../../src/runtime/release_buffer.ts";
import { readImages } from "../../src/runtime/request/images.ts";
import { tilePending } from "../../src/runtime/request/encode.ts";
import { FeatureCache } from "../../src/runtime/feature_cache.ts";
import { loadModel } from "../../src/runtime/load_model.ts";

Deno.test("releaseBuffer: detaches a whole buffer, leaves views and detached ones alone", () => {
  const whole = new Uint8Array(1 << 20);
  releaseBuffer(whole);
  assert.equal(whole.buffer.detached, true);
  assert.equal(whole.byteLength, 0);

  const shared = new Uint8Array(1024);
  const view = shared.subarray(16, 32);
  releaseBuffer(view);
  assert.equal(shared.buffer.detached, false);

  releaseBuffer(whole); // twice is harmless
  releaseBuffer(undefined);
  const raw = new ArrayBuffer(64);
  releaseBuffer(raw);
  assert.equal(raw.detached, true);
});

Deno.test("request images: the decoded pixels are released once tiled", async () => {
  const model = await loadModel(new URL("../fixtures/tiny-idefics3/", import.meta.url).pathname);
  try {
    const image = new URL("../fixtures/images/sources/rgb_noise.png", import.meta.url).pathname;
    const images = await readImages([image], {
      spec: model.plan.spec.image,
      cache: new FeatureCache(0),
    });
    const entry = images.entries[0];
    assert.ok("pending" in entry && entry.pending.pixels !== undefined);
    const [tiled] = tilePending(images, model.plan.spec.image);
    assert.equal(tiled.processed.tiles.length, entry.pending.plan.tiles);
    assert.equal(entry.pending.pixels, undefined);
  } finally {
    await model.dispose();
  }
});
