// The shared KV buffer on the native backend: GroupQueryAttention appends to
// the buffers it is fed in place (bound as its outputs too), and decoding that
// way gives the logits of the copying path, through growth by doubling and
// truncation for prefix reuse; stale views are refused.
import assert from "node:assert/strict";
import { join } from "node:path";
import { synthesize } from "../../src/build/synthesize.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import { OnnxDecoder } from "../../src/modules/onnx_decoder.ts";
import { SHARED_KV_AXIS } from "../../src/modules/kv_buffer_axis.ts";
import type { SharedKvView } from "../../src/modules/shared_kv_cache.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { getPreset } from "../../variants/mod.ts";

const spec = getPreset("smolvlm-256m-instruct");
const built = synthesize(spec, { scale: "test", seed: 4 });
const decoderBytes = built.files.find((f) => f.path.endsWith("decoder_model_merged.onnx"))!.bytes;
const { layers, kvHeads, headDim, hidden } = built.spec.decoder;

async function decoders() {
  const backend = await loadBackend({ backend: "native", threads: 1 });
  const session = await backend.createSession({ name: "decoder", bytes: decoderBytes });
  const geometry = { layers, kvHeads, headDim, cacheType: "float32" as const };
  return {
    session,
    copy: new OnnxDecoder(session, backend.ort, geometry),
    shared: new OnnxDecoder(session, backend.ort, { ...geometry, kvBuffer: "shared" }),
  };
}

let seed = 7;
function rows(n: number) {
  const data = Float32Array.from({ length: n * hidden }, () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  });
  return { rows: n, cols: hidden, data };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

Deno.test("shared KV buffer: the builder's decoder declares GQA's present length", async () => {
  const { session } = await decoders();
  const present = session.outputMetadata.find((m) => m.name === "present.0.key");
  assert.ok(present?.isTensor);
  assert.equal(present.shape[2], SHARED_KV_AXIS);
  await session.release();
});

Deno.test("shared KV buffer: same logits as the copying path, through growth and prefix reuse", async () => {
  const { session, copy, shared } = await decoders();
  const prompt = rows(5);
  const tokens = Array.from({ length: 9 }, () => rows(1));
  // Room for 6 tokens: the second step grows the buffers (6 → 7 + 32), moving the 6 held.
  let a = await copy.step(prompt, copy.emptyCache());
  let b = await shared.step(prompt, shared.emptyCache(6));
  const capacities = [];
  for (const token of tokens) {
    assert.ok(maxAbsDiff(a.logits, b.logits) < 1e-4);
    a = await copy.step(token, a.cache);
    b = await shared.step(token, b.cache);
    capacities.push((b.cache as SharedKvView).buffer.capacity);
  }
  assert.ok(maxAbsDiff(a.logits, b.logits) < 1e-4);
  assert.equal(b.cache.length, 14);
  assert.deepEqual([...new Set(capacities)], [6, 39]);

  // The rows were written into the JS buffers in place: layer 0's key of the last token is set,
  // and the rows after it hold nothing (GQA neither cleared nor copied the buffer).
  const buffer = (b.cache as SharedKvView).buffer;
  const key = buffer.tensors["past_key_values.0.key"].data as Float32Array;
  const lastRow = key.subarray(13 * headDim, 14 * headDim);
  assert.ok(lastRow.some((x) => x !== 0));
  assert.ok(key.subarray(14 * headDim, 16 * headDim).every((x) => x === 0));

  // Prefix reuse: keep 6 tokens, feed a different continuation; the copying path agrees.
  const suffix = rows(3);
  const kept = b.cache.truncate(6);
  const reusedShared = await shared.step(suffix, kept);
  const reusedCopy = await copy.step(suffix, a.cache.truncate(6));
  assert.ok(maxAbsDiff(reusedCopy.logits, reusedShared.logits) < 1e-4);

  // The 14-token view was overwritten after token 6: it is refused, not read.
  assert.throws(() => b.cache.truncate(3), RangeError);
  await assert.rejects(() => shared.step(rows(1), b.cache), RangeError);
  // A new request's empty cache makes the last one stale too.
  shared.emptyCache(4);
  assert.throws(() => reusedShared.cache.truncate(1), RangeError);
  await session.release();
});

Deno.test("native generation with growth and prefix reuse gives wasm's ids", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFolderAtomically(join(dir, "model"), built.files, false);
    const image = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;
    const first = { prompt: "Describe the image.", images: [image], maxNewTokens: 48 };
    const second = { prompt: "What is in it?", images: [image], maxNewTokens: 12 };
    const ids = async (backend: "native" | "wasm") => {
      // The same tiling on both backends (wasm's edge default caps the tiles).
      const model = await loadModel(join(dir, "model"), {
        backend,
        threads: 1,
        maxTiles: Infinity,
      });
      try {
        // 48 tokens outgrow the room reserved for the prompt (+32): the buffers grow mid-answer.
        const a = await model.generate({ ...first, stopTokenIds: [] });
        const b = await model.generate({ ...second, stopTokenIds: [] });
        return { a: a.tokenIds, b: b.tokenIds, reused: b.reusedPrefixTokens };
      } finally {
        await model.dispose();
      }
    };
    const native = await ids("native");
    const wasm = await ids("wasm");
    assert.ok(native.reused > 0);
    assert.deepEqual(native, wasm);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
