// The I/O forms of published exports load and give the same greedy ids as the
// builder's own form of the same weights: a rank-3 `image_features`
// ([N, tokens, H], as the published SmolVLM vision_encoder reports it) and
// float16 at the boundaries published fp16 files use. The published vision encoders compute
// attention with plain operators, so their emulation is the builder's `unfused` vision graph
// (same seed, same weights) where the builder's own folder has MultiHeadAttention.
import assert from "node:assert/strict";
import { join } from "node:path";
import { synthesize, type SynthesizedFile } from "../../src/build/synthesize.ts";
import { inspectOnnx } from "../../src/build/inspect_onnx.ts";
import { decodeModel } from "../../src/build/onnx_file.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { featureRows } from "../../src/modules/feature_rows.ts";
import type { OrtTensor } from "../../src/runtime/backend.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { contractProblems } from "../../src/runtime/session_contract.ts";
import { imageFeatures } from "../../src/families/contracts.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { getPreset } from "../../variants/mod.ts";
import { float16Boundaries, reshapeOutput } from "./_rewrite_io.ts";

const IMAGE = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;
const TOKENS = 8;

type Files = SynthesizedFile[];

/** The builder's vision_encoder for `seed` in the published exports' unfused attention form. */
function publishedVisionEncoder(seed: number): Uint8Array {
  const unfused = synthesize(getPreset("smolvlm-256m-instruct"), {
    scale: "test",
    seed,
    visionAttention: "unfused",
  });
  const bytes = unfused.files.find((f) => f.path === "onnx/vision_encoder.onnx")!.bytes;
  const ops = new Set(decodeModel(bytes).graph!.node!.map((n) => n.opType));
  assert.ok(ops.has("Softmax") && !ops.has("MultiHeadAttention"), "an unfused vision_encoder");
  return bytes;
}

/** Writes `files` with `rewrite` applied to the file at `path`, loads it, greedy-decodes. */
async function greedyIds(
  files: Files,
  rewrites: Record<string, (bytes: Uint8Array) => Uint8Array>,
  backend: "native" | "wasm" = "native",
): Promise<{ ids: number[]; imageTokens: number }> {
  const dir = await Deno.makeTempDir();
  try {
    const changed = files.map((f) =>
      rewrites[f.path] ? { ...f, bytes: rewrites[f.path](f.bytes) } : f
    );
    await writeFolderAtomically(join(dir, "model"), changed, false);
    const model = await loadModel(join(dir, "model"), { backend });
    try {
      const out = await model.generate({
        prompt: "Describe the image.",
        images: [IMAGE],
        maxNewTokens: TOKENS,
        stopTokenIds: [],
      });
      return { ids: out.tokenIds, imageTokens: out.imageTokens };
    } finally {
      await model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("published forms: a rank-3 image_features vision_encoder gives the same greedy ids", async () => {
  const result = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", seed: 4 });
  const { tokensPerTile } = result.plan;
  const hidden = result.spec.decoder.hidden;
  const unfused = publishedVisionEncoder(4);
  const rank3 = () =>
    reshapeOutput(unfused, "image_features", [-1, tokensPerTile, hidden], [
      "num_images",
      tokensPerTile,
      hidden,
    ]);
  // The rewritten file really reports rank 3, as the published one does.
  const dims = inspectOnnx(rank3()).outputs.find((o) => o.name === "image_features")!.dims;
  assert.equal(dims.length, 3);
  for (const backend of ["native", "wasm"] as const) {
    const plain = await greedyIds(result.files, {}, backend);
    const published = await greedyIds(result.files, { "onnx/vision_encoder.onnx": rank3 }, backend);
    assert.ok(plain.imageTokens > 0);
    assert.equal(published.imageTokens, plain.imageTokens, backend);
    assert.deepEqual(published.ids, plain.ids, backend);
  }
});

Deno.test("published forms: the image_features contract takes rank 2 or 3 with the hidden size last", () => {
  const result = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", seed: 4 });
  const want = [imageFeatures(result.plan)];
  const H = result.spec.decoder.hidden;
  const check = (dims: (number | string)[]) =>
    contractProblems("v.onnx", "output", [{ name: "image_features", type: "float32", dims }], want);
  assert.deepEqual(check(["n", H]), []);
  assert.deepEqual(check(["n", 64, H]), []);
  const wrongWidth = check(["n", 64, H + 1]);
  assert.equal(wrongWidth.length, 1);
  assert.match(wrongWidth[0], new RegExp(`expects \\[\\?, ${H}\\] or \\[\\?, \\?, ${H}\\]`));
  assert.equal(check(["a", "b", "c", H]).length, 1);
});

Deno.test("published forms: image_features with the wrong row count is a model_mismatch naming both counts", () => {
  const tensor = (dims: number[]) =>
    ({
      type: "float32",
      dims,
      data: new Float32Array(dims.reduce((a, b) => a * b, 1)),
    }) as unknown as OrtTensor;
  assert.equal(featureRows(tensor([2, 64, 8]), 2, 64, "vision_encoder").rows, 128);
  assert.equal(featureRows(tensor([128, 8]), 2, 64, "vision_encoder").rows, 128);
  assert.throws(
    () => featureRows(tensor([2, 16, 8]), 2, 64, "vision_encoder"),
    (error: unknown) =>
      error instanceof VlmError && error.code === "model_mismatch" &&
      /32 rows/.test(error.message) && /2 × 64 = 128/.test(error.message) &&
      /config\.json/.test(error.fix ?? ""),
  );
});

Deno.test("published forms: float16 at every boundary fp16 exports use gives the same greedy ids", async () => {
  const result = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", seed: 4 });
  const { layers } = result.spec.decoder;
  const cache = (prefix: string) =>
    Array.from({ length: layers }, (_, i) => [`${prefix}.${i}.key`, `${prefix}.${i}.value`]).flat();
  const unfused = publishedVisionEncoder(4);
  const rewrites = {
    "onnx/vision_encoder.onnx": () =>
      float16Boundaries(unfused, ["pixel_values"], ["image_features"]),
    "onnx/embed_tokens.onnx": (b: Uint8Array) => float16Boundaries(b, [], ["inputs_embeds"]),
    "onnx/decoder_model_merged.onnx": (b: Uint8Array) =>
      float16Boundaries(
        b,
        ["inputs_embeds", ...cache("past_key_values")],
        ["logits", ...cache("present")],
      ),
  };
  // The rewritten files really declare float16 where the published fp16 ones do.
  const decoder = result.files.find((f) => f.path === "onnx/decoder_model_merged.onnx")!;
  const info = inspectOnnx(rewrites["onnx/decoder_model_merged.onnx"](decoder.bytes));
  const types = new Map([...info.inputs, ...info.outputs].map((t) => [t.name, t.type]));
  for (const name of ["inputs_embeds", "logits", "past_key_values.0.key", "present.0.value"]) {
    assert.equal(types.get(name), "float16", name);
  }
  for (const backend of ["native", "wasm"] as const) {
    const plain = await greedyIds(result.files, {}, backend);
    const half = await greedyIds(result.files, rewrites, backend);
    assert.equal(half.imageTokens, plain.imageTokens, backend);
    assert.deepEqual(half.ids, plain.ids, backend);
  }
});
