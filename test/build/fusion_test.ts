// The builder writes RMSNorm and tanh-GELU in the forms ONNX Runtime's graph
// optimizer fuses (SimplifiedLayerNormalization, FastGelu), or emits the fused
// kernel itself where ORT does not (residual + RMSNorm, packed QKV with RoPE
// inside GroupQueryAttention): one kernel instead of several nodes, which is
// what a batch-1 decode step pays for. Checked on the optimized graph ORT
// itself writes out.
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

Deno.test("fusion: every RMSNorm and tanh-GELU of a synthesized SmolVLM runs as one ORT kernel", async () => {
  const result = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test" });
  const file = (path: string) => result.files.find((f) => f.path === path)!.bytes;
  const decoder = await optimizedOperators(file("onnx/decoder_model_merged.onnx"));
  const layers = result.spec.decoder.layers;
  // The first norm has no residual before it; every later one carries the residual Add.
  assert.equal(decoder.SimplifiedLayerNormalization, 1);
  assert.equal(decoder["com.microsoft.SkipSimplifiedLayerNormalization"], 2 * layers);
  assert.equal(decoder.ReduceMean ?? 0, 0);
  assert.equal(decoder.Add ?? 0, 0, JSON.stringify(decoder));
  const vision = await optimizedOperators(file("onnx/vision_encoder.onnx"));
  assert.equal(vision["com.microsoft.FastGelu"], result.spec.encoder.layers);
  assert.equal(vision.Tanh ?? 0, 0);
});

Deno.test("fusion: each decoder layer runs four matmuls (QKV, output, gate/up, down) and no separate RoPE", async () => {
  for (const dtype of ["fp32", "q4"] as const) {
    const result = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", dtype });
    const file = result.files.find((f) => f.path.startsWith("onnx/decoder_model_merged"))!;
    const ops = await optimizedOperators(file.bytes);
    const layers = result.spec.decoder.layers;
    const matmuls = (ops.MatMul ?? 0) + (ops["com.microsoft.MatMulNBits"] ?? 0);
    assert.equal(matmuls, 4 * layers + 1, `${dtype}: ${JSON.stringify(ops)}`); // + the head
    assert.equal(ops["com.microsoft.GroupQueryAttention"], layers);
    assert.equal(ops["com.microsoft.RotaryEmbedding"] ?? 0, 0);
  }
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
