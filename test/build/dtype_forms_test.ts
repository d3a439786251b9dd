// Every published dtype form the builder emits (fp16, uint8, q4f16, bnb4 beside fp32, int8,
// q4): each file carries its form's operators and types, loads on both backends without a
// dtype, gives the same greedy ids on both and as transformers.js on the same folder, and its
// decoder's logits stay within a stated distance of the fp32 decoder built from the same weights.
import assert from "node:assert/strict";
import { join } from "node:path";
import { inspectOnnx } from "../../src/build/inspect_onnx.ts";
import { decodeModel, serializeModel } from "../../src/build/onnx_file.ts";
import type { WeightFormat } from "../../src/build/layers/ops.ts";
import { synthesize, type SynthesizedFile } from "../../src/build/synthesize.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import { float16ToFloat32, float32ToFloat16 } from "../../src/runtime/float16.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { seededRandom } from "../../src/runtime/rng.ts";
import { compareBackends } from "../../tools/backend_divergence.ts";
import { dumpInputs } from "../../tools/cli/dump_inputs.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { getPreset } from "../../variants/mod.ts";

const IMAGE = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;
const PRESET = "smolvlm-256m-instruct";
const SEED = 2;
const TOKENS = 16;
const NEW_FORMS = ["fp16", "uint8", "q4f16", "bnb4"] as const;

function build(dtype: WeightFormat) {
  return synthesize(getPreset(PRESET), { scale: "test", seed: SEED, dtype });
}

function file(files: SynthesizedFile[], prefix: string): SynthesizedFile {
  const found = files.find((f) => f.path.startsWith(`onnx/${prefix}`));
  assert.ok(found, `no onnx/${prefix}*`);
  return found;
}

Deno.test("dtype forms: each file holds its form's operators, weight types and boundary types", () => {
  const names = (dtype: WeightFormat) =>
    build(dtype).files.filter((f) => f.path.endsWith(".onnx")).map((f) => f.path).sort();
  for (const dtype of NEW_FORMS) {
    assert.deepEqual(names(dtype), [
      `onnx/decoder_model_merged_${dtype}.onnx`,
      `onnx/embed_tokens_${dtype}.onnx`,
      `onnx/vision_encoder_${dtype}.onnx`,
    ]);
  }
  const decoder = (dtype: WeightFormat) => {
    const bytes = file(build(dtype).files, "decoder_model_merged").bytes;
    return { info: inspectOnnx(bytes), model: decodeModel(bytes) };
  };
  const ops = (model: ReturnType<typeof decodeModel>) =>
    new Set(model.graph!.node!.map((n) => n.opType));
  const typeOf = (info: ReturnType<typeof inspectOnnx>, name: string) =>
    [...info.inputs, ...info.outputs].find((t) => t.name === name)?.type;

  // fp16: float16 weights and float16 at the boundaries published fp16 files use.
  const fp16 = decoder("fp16");
  for (const name of ["inputs_embeds", "logits", "past_key_values.0.key", "present.0.value"]) {
    assert.equal(typeOf(fp16.info, name), "float16", name);
  }
  assert.equal(typeOf(fp16.info, "attention_mask"), "int64");
  const FLOAT16 = 10;
  const weights = fp16.model.graph!.initializer!.filter((t) => !t.name!.startsWith("/const_"));
  assert.ok(weights.length > 0 && weights.every((t) => t.dataType === FLOAT16));
  const vision = inspectOnnx(file(build("fp16").files, "vision_encoder").bytes);
  assert.equal(typeOf(vision, "image_features"), "float16");
  assert.equal(typeOf(vision, "pixel_values"), "float32");

  // uint8: dynamic quantization with uint8 weights and per-column zero points.
  const uint8 = decoder("uint8").model;
  assert.ok(ops(uint8).has("MatMulInteger") && ops(uint8).has("DynamicQuantizeLinear"));
  assert.ok(!ops(uint8).has("MatMul"));
  const matmulInteger = uint8.graph!.node!.find((n) => n.opType === "MatMulInteger")!;
  const weight = uint8.graph!.initializer!.find((t) => t.name === matmulInteger.input![1])!;
  assert.equal(weight.dataType, 2); // uint8

  // q4f16: MatMulNBits with float16 scales (its activations are float16).
  const q4f16 = decoder("q4f16");
  const nbits = q4f16.model.graph!.node!.find((n) => n.opType === "MatMulNBits")!;
  const scales = q4f16.model.graph!.initializer!.find((t) => t.name === nbits.input![2])!;
  assert.equal(scales.dataType, FLOAT16);
  assert.equal(typeOf(q4f16.info, "logits"), "float16");

  // bnb4: MatMulBnb4, NF4 (quant_type 1), block 64, as ONNX Runtime's quantizer writes it.
  const bnb4 = decoder("bnb4").model;
  const node = bnb4.graph!.node!.find((n) => n.opType === "MatMulBnb4")!;
  assert.equal(node.domain, "com.microsoft");
  const attr = (name: string) => Number(node.attribute!.find((a) => a.name === name)!.i);
  assert.equal(attr("quant_type"), 1);
  assert.equal(attr("block_size"), 64);
  assert.ok(!ops(bnb4).has("MatMul"));
});

async function transformersJs(model: string, dump: string, dtype: string) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../tools/oracle/transformers_js.ts", import.meta.url).pathname,
      ...["--model", model, "--inputs", dump, "--dtype", dtype],
      ...["--max-new-tokens", String(TOKENS), "--ignore-eos"],
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]).tokenIds as number[];
}

/**
 * Forms whose activations are quantized at run time (DynamicQuantizeLinear, or MatMulNBits'
 * accuracy level 4; on wasm every 4-bit form, bnb4 included, is re-packed to the int8 chain at
 * load): a float difference between the backends' kernels can move an activation across a
 * rounding step, so their greedy ids may part at near-ties; the weight-only forms give the
 * same ids.
 */
const DYNAMIC = new Set<WeightFormat>(["int8", "uint8", "q4", "q4f16", "bnb4"]);

for (const dtype of NEW_FORMS) {
  Deno.test(`dtype forms: ${dtype} loads without a dtype, runs on native and wasm (ids part only at near-ties), and transformers.js agrees on ${TOKENS} greedy ids`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const folder = join(dir, `${PRESET}-${dtype}`);
      await writeFolderAtomically(folder, build(dtype).files, false);
      const request = {
        prompt: "What is in the image?",
        images: [IMAGE],
        maxNewTokens: TOKENS,
        stopTokenIds: [],
      };
      const model = await loadModel(folder, { backend: "native" });
      try {
        assert.ok(model.plan.files.every((f) => f.dtype === dtype), "detected from the files");
        await dumpInputs(join(dir, "dump"), await model.prepareInputs(request));
      } finally {
        await model.dispose();
      }
      const runs = await compareBackends(folder, request);
      assert.equal(runs.native.length, TOKENS);
      // transformers.js runs onnxruntime-node: the same ids as vlmkit's native backend.
      assert.deepEqual(runs.native, await transformersJs(folder, join(dir, "dump"), dtype));
      if (!DYNAMIC.has(dtype)) assert.deepEqual(runs.wasm, runs.native);
      // Along native's ids, wasm picks the same id wherever the top-2 gap exceeds what the
      // backends' logits can differ by at that step.
      for (const step of runs.steps) {
        if (step.nativeGap > 2 * step.backendDiff) {
          assert.equal(step.wasmId, step.id, `${step.step}`);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/**
 * Largest |logit − fp32 logit| over one 12-token step with an empty cache, relative to
 * the largest |fp32 logit|, on each backend.
 */
const LOGIT_TOLERANCE: Record<WeightFormat, number> = {
  fp32: 0,
  fp16: 0.01, // float16 weights (about 3 significant digits), float16 logits
  int8: 0.1,
  uint8: 0.1, // 8-bit weights per column, 8-bit activations per call
  q4: 0.35,
  q4f16: 0.35, // 4-bit weights in blocks of 32
  bnb4: 0.35, // 4-bit NF4 in blocks of 64
};

async function decoderLogits(bytes: Uint8Array, backendName: "native" | "wasm") {
  const backend = await loadBackend({ backend: backendName });
  const session = await backend.createSession({ name: "decoder", bytes });
  try {
    const spec = build("fp32").spec.decoder;
    const steps = 12;
    const random = seededRandom(7);
    const embeds = Float32Array.from({ length: steps * spec.hidden }, () => random() * 2 - 1);
    const float = (name: string, data: Float32Array, dims: number[]) => {
      const half = session.inputMetadata.find((m) => m.name === name);
      return half?.isTensor && half.type === "float16"
        ? new backend.ort.Tensor("float16", float32ToFloat16(data), dims)
        : new backend.ort.Tensor("float32", data, dims);
    };
    const feeds: Record<string, ReturnType<typeof float>> = {
      inputs_embeds: float("inputs_embeds", embeds, [1, steps, spec.hidden]),
      attention_mask: new backend.ort.Tensor("int64", new BigInt64Array(steps).fill(1n), [
        1,
        steps,
      ]),
      position_ids: new backend.ort.Tensor(
        "int64",
        BigInt64Array.from({ length: steps }, (_, i) => BigInt(i)),
        [1, steps],
      ),
    };
    for (let i = 0; i < spec.layers; i++) {
      for (const kind of ["key", "value"]) {
        const name = `past_key_values.${i}.${kind}`;
        feeds[name] = float(name, new Float32Array(0), [1, spec.kvHeads, 0, spec.headDim]);
      }
    }
    const logits = (await session.run(feeds)).logits;
    return logits.type === "float16"
      ? float16ToFloat32(logits.data as Uint16Array)
      : logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

Deno.test("dtype forms: every form's decoder logits stay within the stated distance of fp32's, on both backends", async () => {
  const decoderBytes = (dtype: WeightFormat) => file(build(dtype).files, "decoder_model_merged");
  for (const backend of ["native", "wasm"] as const) {
    const reference = await decoderLogits(decoderBytes("fp32").bytes, backend);
    const scale = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(scale > 0);
    for (const dtype of ["fp16", "int8", "uint8", "q4", "q4f16", "bnb4"] as const) {
      const logits = await decoderLogits(decoderBytes(dtype).bytes, backend);
      assert.equal(logits.length, reference.length);
      let worst = 0;
      for (let i = 0; i < logits.length; i++) {
        worst = Math.max(worst, Math.abs(logits[i] - reference[i]));
      }
      const relative = worst / scale;
      // Quantized, but not identical: the form really changed the weights.
      assert.ok(relative > 0, `${dtype} on ${backend} equals fp32`);
      assert.ok(
        relative <= LOGIT_TOLERANCE[dtype],
        `${dtype} on ${backend}: max |Δlogit| / max |logit| = ${relative.toFixed(4)} > ${
          LOGIT_TOLERANCE[dtype]
        }`,
      );
    }
  }
});

Deno.test("dtype forms: an operator a backend has no kernel for is a typed error naming the dtype, the backend and portable dtypes", async () => {
  const result = build("q4");
  const files = result.files.map((f) => {
    if (!f.path.startsWith("onnx/decoder_model_merged")) return f;
    // A contrib operator no ONNX Runtime build has, standing in for a kernel a backend lacks.
    const model = decodeModel(f.bytes);
    for (const node of model.graph!.node!) {
      if (node.opType === "MatMulNBits") node.opType = "MatMulNBitsUnavailable";
    }
    return { ...f, bytes: serializeModel(model).model };
  });
  const dir = await Deno.makeTempDir();
  try {
    await writeFolderAtomically(join(dir, "model"), files, false);
    for (const backend of ["native", "wasm"] as const) {
      await assert.rejects(loadModel(join(dir, "model"), { backend }), (error: unknown) => {
        assert.ok(error instanceof VlmError);
        assert.equal(error.code, "model_invalid");
        assert.match(error.message, new RegExp(`the ${backend} backend cannot run`));
        assert.match(error.message, /decoder_model_merged_q4\.onnx \(dtype q4\)/);
        assert.match(error.message, /MatMulNBitsUnavailable/);
        assert.match(error.fix ?? "", /fp32, int8/);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dtype forms: a tied head (granite-docling) and a modular MobileVLM V2 folder run every form on both backends", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const preset of ["granite-docling-258m", "mobilevlm-v2-1.7b"]) {
      for (const dtype of ["fp32", "fp16", "int8", "uint8", "q4", "q4f16", "bnb4"] as const) {
        const folder = join(dir, `${preset}-${dtype}`);
        const result = synthesize(getPreset(preset), { scale: "test", seed: 4, dtype });
        await writeFolderAtomically(folder, result.files, false);
        const ids: number[][] = [];
        for (const backend of ["native", "wasm"] as const) {
          const model = await loadModel(folder, { backend, maxTiles: Infinity });
          try {
            assert.ok(model.plan.files.every((f) => f.dtype === dtype), `${preset} ${dtype}`);
            const out = await model.generate({
              prompt: "Describe the image.",
              images: [IMAGE],
              maxNewTokens: 6,
              stopTokenIds: [],
            });
            ids.push(out.tokenIds);
          } finally {
            await model.dispose();
          }
        }
        assert.equal(ids[0].length, 6, `${preset} ${dtype}`);
        if (!DYNAMIC.has(dtype)) assert.deepEqual(ids[1], ids[0], `${preset} ${dtype}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
