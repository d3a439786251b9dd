import assert from "node:assert/strict";
import fc from "fast-check";
import type { Dtype } from "../../src/spec/types.ts";
import { planBudget } from "../../src/tokens/budget.ts";
import { kvBytesPerToken, moduleWeightBytes, weightBytes } from "../../src/tokens/memory.ts";
import { decoderParams } from "../../src/tokens/params.ts";
import { sampledFrameCount, videoImageTokens } from "../../src/tokens/video.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { presetPlan } from "../_plans.ts";

const smol = presetPlan("smolvlm-256m-instruct");
const DTYPES: Dtype[] = ["fp32", "fp16", "int8", "uint8", "q8", "q4", "q4f16", "bnb4"];

Deno.test("weights: fp32 is 4 bytes per used parameter, fp16 is 2", () => {
  const used = smol.params.total - smol.params.encoder.unused;
  assert.equal(weightBytes(smol.params, "fp32").total, 4 * used);
  assert.equal(weightBytes(smol.params, "fp16").total, 2 * used);
});

Deno.test("weights: q4 decoder of SmolVLM-256M lands near the published 86.9 MB file", () => {
  // Published decoder_model_merged_q4.onnx (embeddings live in embed_tokens there).
  const decoder = smol.params.decoder;
  const withoutEmbedding = { ...decoder, total: decoder.total - decoder.embedding, embedding: 0 };
  const bytes = moduleWeightBytes(withoutEmbedding, "q4");
  assert.ok(bytes > 0.8 * 86.9e6 && bytes < 1.2 * 86.9e6, `${bytes}`);
});

Deno.test("property: every dtype stores no more than fp32 and fp16 ≤ fp32", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...DTYPES),
      fc.constantFrom("smolvlm-256m-instruct", "mobilevlm-3b", "idefics3-8b"),
      (dtype, name) => {
        const params = presetPlan(name).params;
        const fp32 = weightBytes(params, "fp32").total;
        const bytes = weightBytes(params, dtype);
        assert.ok(bytes.total <= fp32);
        assert.equal(bytes.total, bytes.encoder + bytes.projector + bytes.decoder);
      },
    ),
  );
});

Deno.test("property: KV bytes per token are linear in layers·kvHeads·headDim and halve in fp16", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 32 }),
      fc.integer({ min: 1, max: 256 }),
      (layers, kvHeads, headDim) => {
        const decoder = { ...smol.spec.decoder, layers, kvHeads, headDim };
        const f32 = kvBytesPerToken(decoder, "float32");
        assert.equal(f32, 2 * layers * kvHeads * headDim * 4);
        assert.equal(kvBytesPerToken(decoder, "float16") * 2, f32);
      },
    ),
  );
});

Deno.test("property: each decoder layer adds the same number of parameters", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 80 }), (layers) => {
      const base = smol.spec.decoder;
      const a = decoderParams({ ...base, layers }).total;
      const b = decoderParams({ ...base, layers: layers + 1 }).total;
      const c = decoderParams({ ...base, layers: layers + 2 }).total;
      assert.equal(b - a, c - b);
      // q,o: 576×576 each; k,v: 576×192 each; SwiGLU: 3×576×1536; two RMSNorms
      assert.equal(b - a, 2 * 576 * 576 + 2 * 576 * 192 + 3 * 576 * 1536 + 2 * 576);
    }),
  );
});

Deno.test("budget: the whole context picks full splitting; a small budget falls back", () => {
  const image = { width: 640, height: 480 };
  const full = planBudget(smol, { image });
  assert.equal(full.split, true);
  assert.equal(full.count.imageTokens, 832);
  const small = planBudget(smol, { image, maxTokens: 400 });
  assert.ok(small.count.totalTokens <= 400);
  assert.ok(small.count.imageTokens < 832);
  assert.throws(() => planBudget(smol, { image, maxTokens: 10 }), (error: unknown) => {
    assert.ok(error instanceof VlmError);
    assert.equal(error.code, "budget_unsatisfiable");
    return true;
  });
});

Deno.test("property: the budget planner's choice fits, and more budget never means fewer image tokens", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6000 }),
      fc.integer({ min: 1, max: 6000 }),
      fc.integer({ min: 120, max: 8192 }),
      fc.integer({ min: 0, max: 4000 }),
      (width, height, budget, extra) => {
        const image = { width, height };
        let smaller;
        try {
          smaller = planBudget(smol, { image, maxTokens: budget });
        } catch (error) {
          assert.ok(error instanceof VlmError);
          return;
        }
        assert.ok(smaller.count.totalTokens <= budget);
        const larger = planBudget(smol, { image, maxTokens: budget + extra });
        assert.ok(larger.count.imageTokens >= smaller.count.imageTokens);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("budget: a memory budget counts weights plus the KV cache", () => {
  const image = { width: 640, height: 480 };
  const weights = weightBytes(smol.params, "fp32").total;
  const oneTileKv = 200 * smol.decoder.kvBytesPerToken;
  const choice = planBudget(smol, { image, maxBytes: weights + oneTileKv });
  assert.ok(choice.bytes <= weights + oneTileKv);
  assert.equal(choice.bytes, weights + choice.count.totalTokens * smol.decoder.kvBytesPerToken);
});

Deno.test("video: fps·duration frames, capped at maxFrames, 64 tokens each", () => {
  const video = presetPlan("smolvlm2-256m-video");
  assert.equal(sampledFrameCount(video, 10), 10);
  assert.equal(sampledFrameCount(video, 0.2), 1);
  assert.equal(sampledFrameCount(video, 600), 64);
  assert.equal(videoImageTokens(video, 600), 64 * 64);
  assert.throws(() => sampledFrameCount(smol, 10), VlmError);
  assert.throws(() => sampledFrameCount(video, -1), VlmError);
});
