// The KV cache contract of the decoder module, on the tiny export: positions
// continue from the cache, the cache grows by the rows fed, and truncating a
// cache then feeding the rest equals one full prefill.
import assert from "node:assert/strict";
import { loadModel } from "../../src/runtime/load_model.ts";
import { mergeImageFeatures } from "../../src/runtime/merge.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import { OnnxDecoder } from "../../src/modules/onnx_decoder.ts";
import { OnnxEmbedder } from "../../src/modules/onnx_embedder.ts";
import { TINY_MODEL } from "./_tiny_model.ts";

async function tinyModules() {
  const backend = await loadBackend({ backend: "wasm" });
  const open = async (name: string) =>
    await backend.createSession({
      name,
      bytes: await Deno.readFile(new URL(`onnx/${name}.onnx`, TINY_MODEL)),
    });
  const embedder = new OnnxEmbedder(await open("embed_tokens"), backend.ort);
  const decoder = new OnnxDecoder(await open("decoder_model_merged"), backend.ort, {
    layers: 2,
    kvHeads: 2,
    headDim: 12,
    cacheType: "float32",
  });
  return { embedder, decoder };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

Deno.test("decoder: incremental steps and truncated caches equal one full prefill", async () => {
  const { embedder, decoder } = await tinyModules();
  const ids = [1, 312, 28, 40, 41, 42, 43, 201];
  const full = await decoder.step(await embedder.embed(ids), decoder.emptyCache());
  assert.equal(full.cache.length, ids.length);

  // Prefill 5, then one token at a time: the cache grows by one per step.
  let step = await decoder.step(await embedder.embed(ids.slice(0, 5)), decoder.emptyCache());
  assert.equal(step.cache.length, 5);
  for (let i = 5; i < ids.length; i++) {
    step = await decoder.step(await embedder.embed([ids[i]]), step.cache);
    assert.equal(step.cache.length, i + 1);
  }
  assert.ok(maxAbsDiff(step.logits, full.logits) < 1e-4);

  // Keep 3 tokens of the full cache, feed the other 5.
  const reused = await decoder.step(await embedder.embed(ids.slice(3)), full.cache.truncate(3));
  assert.equal(reused.cache.length, ids.length);
  assert.ok(maxAbsDiff(reused.logits, full.logits) < 1e-4);

  // Wrong positions would change the logits: feeding the same suffix on an empty cache differs.
  const shifted = await decoder.step(await embedder.embed(ids.slice(3)), decoder.emptyCache());
  assert.ok(maxAbsDiff(shifted.logits, full.logits) > 1e-2);
  assert.throws(() => full.cache.truncate(ids.length + 1), RangeError);
});

Deno.test("merge: the k-th <image> token receives feature row k; counts must match", () => {
  const IMG = 9;
  const ids = [1, IMG, 5, IMG, IMG, 2];
  const embeds = { rows: 6, cols: 2, data: new Float32Array(12).fill(-1) };
  const features = { rows: 3, cols: 2, data: Float32Array.from([10, 11, 20, 21, 30, 31]) };
  mergeImageFeatures(embeds, ids, IMG, features);
  assert.deepEqual([...embeds.data], [-1, -1, 10, 11, -1, -1, 20, 21, 30, 31, -1, -1]);

  // Continuing after a cached prefix that held the first image row.
  const tail = { rows: 3, cols: 2, data: new Float32Array(6) };
  mergeImageFeatures(tail, [5, IMG, IMG], IMG, features, 1);
  assert.deepEqual([...tail.data], [0, 0, 20, 21, 30, 31]);

  const tooFew = { rows: 2, cols: 2, data: new Float32Array(4) };
  assert.throws(
    () => mergeImageFeatures({ ...embeds, data: new Float32Array(12) }, ids, IMG, tooFew),
    (e: unknown) => e instanceof VlmError && e.code === "model_mismatch",
  );
});

Deno.test("model load is refused when the plan and the sessions disagree", async () => {
  const copy = await Deno.makeTempDir();
  try {
    for await (const entry of Deno.readDir(TINY_MODEL)) {
      if (entry.isFile) {
        await Deno.copyFile(new URL(entry.name, TINY_MODEL), `${copy}/${entry.name}`);
      }
    }
    await Deno.mkdir(`${copy}/onnx`);
    for (const name of ["vision_encoder", "embed_tokens", "decoder_model_merged"]) {
      await Deno.copyFile(new URL(`onnx/${name}.onnx`, TINY_MODEL), `${copy}/onnx/${name}.onnx`);
    }
    const config = JSON.parse(await Deno.readTextFile(`${copy}/config.json`));

    // A config that claims 3 KV heads: every cache tensor mismatches, each named with both shapes.
    config.text_config.num_key_value_heads = 3;
    config.text_config.num_attention_heads = 6;
    config.text_config.head_dim = 8;
    await Deno.writeTextFile(`${copy}/config.json`, JSON.stringify(config));
    await assert.rejects(loadModel(copy), (e: unknown) => {
      assert.ok(e instanceof VlmError && e.code === "model_mismatch");
      assert.match(
        e.message,
        /onnx\/decoder_model_merged\.onnx: input "past_key_values\.0\.key" has shape \[batch_size, 2, past_sequence_length, 12\], the plan expects \[\?, 3, \?, 8\]/,
      );
      return true;
    });

    // A dtype whose files are absent.
    config.text_config.num_key_value_heads = 2;
    config.text_config.num_attention_heads = 4;
    config.text_config.head_dim = 12;
    await Deno.writeTextFile(`${copy}/config.json`, JSON.stringify(config));
    await assert.rejects(
      loadModel(copy, { dtype: "q4" }),
      (e: unknown) =>
        e instanceof VlmError && e.code === "model_invalid" &&
        /has no onnx\/\w+_q4\.onnx/.test(e.message),
    );

    // processor_config.json disagreeing with the encoder geometry.
    await Deno.writeTextFile(
      `${copy}/processor_config.json`,
      JSON.stringify({ image_seq_len: 16 }),
    );
    await assert.rejects(
      loadModel(copy),
      (e: unknown) =>
        e instanceof VlmError && e.code === "model_mismatch" && /image_seq_len 16/.test(e.message),
    );

    // Not a model folder at all.
    await assert.rejects(
      loadModel(`${copy}/onnx`),
      (e: unknown) =>
        e instanceof VlmError && e.code === "model_invalid" && /config\.json/.test(e.message),
    );
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});

Deno.test("backend options are validated before anything loads", async () => {
  await assert.rejects(
    loadBackend({ backend: "wasm", threads: 2 }),
    (e: unknown) => e instanceof VlmError && e.code === "usage" && /threads: 1/.test(e.fix ?? ""),
  );
  await assert.rejects(
    loadBackend({ backend: "native", threads: 0 }),
    (e: unknown) => e instanceof VlmError && e.code === "usage",
  );
});
