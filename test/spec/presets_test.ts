import assert from "node:assert/strict";
import { resolve } from "../../src/spec/resolve.ts";
import { validateSpec } from "../../src/spec/validate.ts";
import { PRESET_JSON } from "../../variants/mod.ts";
import { presetPlan } from "../_plans.ts";

const REQUIRED_PRESETS = [
  "smolvlm-256m-instruct",
  "smolvlm-500m-instruct",
  "smolvlm-instruct",
  "smolvlm2-256m-video",
  "smolvlm2-500m-video",
  "smoldocling-256m",
  "granite-docling-258m",
  "idefics3-8b",
  "mobilevlm-1.7b",
  "mobilevlm-3b",
  "mobilevlm-v2-1.7b",
  "mobilevlm-v2-3b",
];

Deno.test("presets: every required preset exists, and every JSON file in variants/ is registered", () => {
  assert.deepEqual(Object.keys(PRESET_JSON).sort(), [...REQUIRED_PRESETS].sort());
  const files = [...Deno.readDirSync(new URL("../../variants/", import.meta.url))]
    .filter((entry) => entry.name.endsWith(".json"))
    .map((entry) => entry.name.replace(/\.json$/, ""));
  assert.deepEqual(files.sort(), [...REQUIRED_PRESETS].sort());
});

for (const name of REQUIRED_PRESETS) {
  Deno.test(`presets: ${name} passes the schema and every cross-field rule`, () => {
    const result = validateSpec(PRESET_JSON[name]);
    assert.deepEqual(result.issues, []);
    assert.equal(result.valid && result.spec.name, name);
  });
}

// Published totals (reference/variants.md §7). The issue allows 0.5 %; the formulas are exact.
const PUBLISHED_TOTALS: Record<string, number> = {
  "smolvlm-256m-instruct": 256_484_928,
  "smolvlm-500m-instruct": 507_482_304,
  "smolvlm-instruct": 2_246_272_880,
  "granite-docling-258m": 257_517_120,
  "idefics3-8b": 8_462_086_384,
  "mobilevlm-1.7b": 1_686_742_016,
  "mobilevlm-3b": 3_033_981_696,
};

Deno.test("presets: parameter totals reproduce the published figures", () => {
  for (const [name, expected] of Object.entries(PUBLISHED_TOTALS)) {
    const { total } = presetPlan(name).params;
    assert.ok(Math.abs(total - expected) / expected <= 0.005, `${name}: ${total} vs ${expected}`);
    assert.equal(total, expected, name);
  }
});

Deno.test("presets: module counts match the reference components", () => {
  const smol = presetPlan("smolvlm-256m-instruct").params;
  assert.equal(smol.encoder.total, 86_433_024);
  assert.equal(smol.projector.total, 7_077_888);
  assert.equal(smol.decoder.total, 162_974_016);
  assert.equal(presetPlan("mobilevlm-1.7b").params.projector.total, 18_936_832);
  assert.equal(presetPlan("mobilevlm-3b").params.projector.total, 28_913_920);
  assert.equal(presetPlan("mobilevlm-v2-1.7b").params.projector.total, 6_316_032);
  assert.equal(presetPlan("mobilevlm-v2-3b").params.projector.total, 9_205_760);
  assert.equal(presetPlan("smolvlm-instruct").params.encoder.total, 412_987_248);
});

Deno.test("presets: tokens per tile and worst cases (DESIGN §3)", () => {
  const expected: Record<string, [number, number, number]> = {
    "smolvlm-256m-instruct": [64, 17, 1088],
    "smolvlm-instruct": [81, 17, 1377],
    "idefics3-8b": [169, 17, 2873],
    "mobilevlm-1.7b": [144, 1, 144],
    "mobilevlm-v2-3b": [144, 1, 144],
  };
  for (const [name, [perTile, tiles, tokens]] of Object.entries(expected)) {
    const plan = presetPlan(name);
    assert.deepEqual(
      [plan.tokensPerTile, plan.maxTilesPerImage, plan.maxImageTokensPerImage],
      [perTile, tiles, tokens],
      name,
    );
  }
});

Deno.test("resolve: plan shapes, files and KV bytes of SmolVLM-256M", () => {
  const plan = presetPlan("smolvlm-256m-instruct");
  assert.deepEqual(plan.encoder, {
    patchGridSide: 32,
    patchesPerTile: 1024,
    sequenceLength: 1024,
    featureDim: 768,
  });
  assert.deepEqual(plan.projector, {
    kind: "pixel-shuffle-linear",
    downsample: 4,
    inputDim: 12288,
    outputDim: 576,
  });
  assert.deepEqual(plan.files.map((f) => f.path), [
    "onnx/vision_encoder.onnx",
    "onnx/embed_tokens.onnx",
    "onnx/decoder_model_merged.onnx",
  ]);
  // 2 (K,V) × 30 layers × 3 KV heads × 64 × 4 bytes
  assert.equal(plan.decoder.kvBytesPerToken, 2 * 30 * 3 * 64 * 4);
});

Deno.test("resolve: dtype suffixes and the fp16 KV cache", () => {
  const spec = structuredClone(PRESET_JSON["smolvlm-256m-instruct"]) as {
    artifacts: { modules: Record<string, { dtype: string }> };
  };
  spec.artifacts.modules.vision_encoder.dtype = "q4";
  spec.artifacts.modules.embed_tokens.dtype = "q8";
  spec.artifacts.modules.decoder_model_merged.dtype = "q4f16";
  const plan = resolve(spec);
  assert.deepEqual(plan.files.map((f) => f.path), [
    "onnx/vision_encoder_q4.onnx",
    "onnx/embed_tokens_quantized.onnx",
    "onnx/decoder_model_merged_q4f16.onnx",
  ]);
  assert.equal(plan.decoder.kvCacheDtype, "float16");
  assert.equal(plan.decoder.kvBytesPerToken, 2 * 30 * 3 * 64 * 2);
});

Deno.test("resolve: CLIP penultimate features leave the last block and post-LN unused", () => {
  const { encoder } = presetPlan("mobilevlm-1.7b").params;
  const d = 1024, mlp = 4096;
  const lastBlock = 4 * d * d + 2 * d * mlp + 4 * d + 4 * d + mlp + d;
  assert.equal(encoder.unused, lastBlock + 2 * d);
  assert.equal(presetPlan("mobilevlm-1.7b").encoder.sequenceLength, 577);
});
