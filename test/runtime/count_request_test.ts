// Counted prompt tokens equal the tokens the run reports, on the wasm backend: with its default
// image budget (5 tiles), and with the request's and the model's overrides. The bare Plan's
// count (the full split) differs for a photo, which is why the model's budget must be used.
import assert from "node:assert/strict";
import { encode as encodePng } from "fast-png";
import { loadModel } from "../../src/runtime/load_model.ts";
import { countRequest } from "../../src/runtime/count_request.ts";
import type { VlmModel } from "../../src/runtime/model.ts";
import { countSequence } from "../../src/tokens/sequence.ts";

const MODEL_DIR = new URL("../../models/tiny-smolvlm/", import.meta.url);

/** A 1024×768 gradient: 10 tiles in the tiny model's full split. */
function photo(width = 1024, height = 768): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[3 * i] = i % 251;
    data[3 * i + 1] = (i >> 10) % 241;
    data[3 * i + 2] = (i * 7) % 239;
  }
  return encodePng({ width, height, data, channels: 3, depth: 8 });
}

const PROMPT = "What is in this picture?";
const IMAGE = photo();
const SIZE = { width: 1024, height: 768 };

/** Counts and runs one request; asserts they agree and returns the tiles the run used. */
async function agree(
  model: VlmModel,
  options: { split?: boolean; maxTiles?: number },
): Promise<number> {
  const count = countRequest(model, { images: [SIZE], prompt: PROMPT, ...options });
  const result = await model.generate({
    prompt: PROMPT,
    images: [IMAGE],
    maxNewTokens: 1,
    ...options,
  });
  assert.equal(count.images[0].tiles, result.imagePlan?.tiles);
  assert.equal(count.imageTokens, result.imagePlan?.imageTokens);
  assert.equal(count.totalTokens, result.promptTokens, JSON.stringify(options));
  assert.equal(count.textTokensExact, true);
  return count.images[0].tiles;
}

Deno.test("countRequest: the wasm default budget, per-request overrides, and split: false", async () => {
  const model = await loadModel(MODEL_DIR, { backend: "wasm" });
  try {
    const full = countSequence(model.plan, { images: [SIZE] }).images[0].tiles;
    assert.equal(full, 10); // what the bare Plan counts: more than wasm runs
    assert.equal(await agree(model, {}), 5);
    // A 4:3 photo has no grid of 2 tiles: 3 is planned unsplit.
    assert.equal(await agree(model, { maxTiles: 3 }), 1);
    assert.equal(await agree(model, { maxTiles: Infinity }), full);
    assert.equal(await agree(model, { split: false }), 1);
  } finally {
    await model.dispose();
  }
});

Deno.test("countRequest: a model loaded with its own maxTiles", async () => {
  const model = await loadModel(MODEL_DIR, { backend: "wasm", maxTiles: 2 });
  try {
    assert.equal(await agree(model, {}), 1);
    assert.equal(await agree(model, { maxTiles: 5 }), 5);
  } finally {
    await model.dispose();
  }
});
