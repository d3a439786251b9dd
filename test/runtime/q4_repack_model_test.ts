// A test-scale SmolVLM q4 / q4f16 / bnb4 folder on wasm runs re-packed to int8 by default (reported
// in model.q4Kernels), keeps its published kernel with q4Kernel "original", agrees with
// native q4 wherever the top-2 gap exceeds the backends' logit difference, and a MatMulNBits
// in a form the re-pack does not cover is kept and still runs.
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeModel, serializeModel } from "../../src/build/onnx_file.ts";
import { synthesize } from "../../src/build/synthesize.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { compareBackends } from "../../tools/backend_divergence.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { getPreset } from "../../variants/mod.ts";

const IMAGE = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;
const TOKENS = 12;
const request = {
  prompt: "What is in the image?",
  images: [IMAGE],
  maxNewTokens: TOKENS,
  stopTokenIds: [],
};

function files(dtype: "q4" | "q4f16" | "bnb4") {
  return synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", seed: 2, dtype }).files;
}

for (const dtype of ["q4", "q4f16", "bnb4"] as const) {
  Deno.test(`q4 re-pack: ${dtype} on wasm is re-packed, reported, and agrees with native ${dtype} away from near-ties`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      await writeFolderAtomically(dir, files(dtype), false);
      const wasm = await loadModel(dir, { backend: "wasm" });
      const decoder = wasm.q4Kernels.find((r) => r.file.includes("decoder_model_merged"));
      await wasm.dispose();
      assert.equal(decoder?.kernel, "int8-repack");
      assert.ok(decoder.rewritten > 0 && decoder.kept.length === 0);
      const native = await loadModel(dir, { backend: "native" });
      assert.deepEqual(native.q4Kernels, [], "native keeps its 4-bit kernel");
      await native.dispose();
      const original = await loadModel(dir, { backend: "wasm", q4Kernel: "original" });
      assert.deepEqual(original.q4Kernels, []);
      await original.dispose();

      const runs = await compareBackends(dir, request);
      assert.equal(runs.native.length, TOKENS);
      for (const step of runs.steps) {
        if (step.nativeGap > 2 * step.backendDiff) {
          assert.equal(step.wasmId, step.id, `${step.step}`);
        }
      }
      // The re-pack adds int8 rounding to the 4-bit weights: the logits stay close to native's.
      assert.ok(runs.steps.every((s) => s.backendDiff < 1), JSON.stringify(runs.steps));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("q4 re-pack: a MatMulNBits with a bias input is kept as it is and the model still runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const all = files("q4");
    const decoderFile = all.find((f) => f.path.startsWith("onnx/decoder_model_merged"))!;
    const model = decodeModel(decoderFile.bytes);
    const node = model.graph!.node!.find((n) => n.opType === "MatMulNBits")!;
    const n = Number(node.attribute!.find((a) => a.name === "N")!.i);
    model.graph!.initializer!.push({
      name: "extra_bias",
      dataType: 1,
      dims: [n],
      rawData: new Uint8Array(new Float32Array(n).buffer),
    });
    node.input = [...node.input!.slice(0, 4), "", "extra_bias"];
    const changed = all.map((f) =>
      f === decoderFile ? { ...f, bytes: serializeModel(model).model } : f
    );
    await writeFolderAtomically(join(dir, "m"), changed, false);
    const vlm = await loadModel(join(dir, "m"), { backend: "wasm" });
    try {
      const decoder = vlm.q4Kernels.find((r) => r.file.includes("decoder_model_merged"))!;
      assert.equal(decoder.kept.length, 1);
      assert.equal(decoder.kept[0].node, node.name);
      assert.match(decoder.kept[0].reason, /bias/);
      assert.ok(decoder.rewritten > 0, "the other nodes are still re-packed");
      const out = await vlm.generate({ ...request, maxNewTokens: 4 });
      assert.equal(out.tokenIds.length, 4);
    } finally {
      await vlm.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
