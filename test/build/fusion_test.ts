// The builder writes RMSNorm and tanh-GELU in the forms ONNX Runtime's graph
// optimizer fuses (SimplifiedLayerNormalization, FastGelu): one kernel each
// instead of six to eight element-wise nodes. Checked on the optimized graph
// ORT itself writes out.
import assert from "node:assert/strict";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { inspectOnnx } from "../../src/build/inspect_onnx.ts";
import { synthesize } from "../../src/build/synthesize.ts";
import { getPreset } from "../../variants/mod.ts";

async function optimizedOperators(bytes: Uint8Array): Promise<Record<string, number>> {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "model.onnx");
    const output = join(dir, "optimized.onnx");
    await Deno.writeFile(input, bytes);
    const session = await ort.InferenceSession.create(input, {
      graphOptimizationLevel: "extended",
      optimizedModelFilePath: output,
    });
    await session.release();
    return inspectOnnx(await Deno.readFile(output)).operators;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("fusion: every RMSNorm and tanh-GELU of a synthesized SmolVLM fuses into one ORT kernel", async () => {
  const result = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test" });
  const file = (path: string) => result.files.find((f) => f.path === path)!.bytes;
  const decoder = await optimizedOperators(file("onnx/decoder_model_merged.onnx"));
  const layers = result.spec.decoder.layers;
  assert.equal(
    decoder["com.microsoft.SimplifiedLayerNormalization"] ?? decoder.SimplifiedLayerNormalization,
    2 * layers + 1,
  );
  assert.equal(decoder.ReduceMean ?? 0, 0);
  const vision = await optimizedOperators(file("onnx/vision_encoder.onnx"));
  assert.equal(vision["com.microsoft.FastGelu"], result.spec.encoder.layers);
  assert.equal(vision.Tanh ?? 0, 0);
});

Deno.test("fusion: int8 matmuls are dynamically quantized and fuse into integer kernels", async () => {
  const result = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", dtype: "int8" });
  for (const path of ["onnx/vision_encoder_int8.onnx", "onnx/decoder_model_merged_int8.onnx"]) {
    const bytes = result.files.find((f) => f.path === path)!.bytes;
    // As written: the published `_int8` form, activations quantized at run time.
    const written = inspectOnnx(bytes).operators;
    assert.ok(written.MatMulInteger > 0, `${path}: ${JSON.stringify(written)}`);
    assert.equal(written.DynamicQuantizeLinear, written.MatMulInteger);
    assert.equal(written.DequantizeLinear ?? 0, 0);
    // As ORT runs it: every integer matmul fused with its quantize and rescale.
    const optimized = await optimizedOperators(bytes);
    const fused = (optimized["com.microsoft.MatMulIntegerToFloat"] ?? 0) +
      (optimized["com.microsoft.DynamicQuantizeMatMul"] ?? 0);
    assert.equal(fused, written.MatMulInteger, JSON.stringify(optimized));
    assert.equal(optimized.MatMulInteger ?? 0, 0);
  }
});
