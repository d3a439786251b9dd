// The wasm backend's 4 GiB ceiling: estimated per plan, enforced at load
// before any ONNX file is read.
import assert from "node:assert/strict";
import { join } from "node:path";
import { chatTemplateFor } from "../../src/build/chat_templates.ts";
import { MODULAR_MANIFEST } from "../../src/build/modular_manifest.ts";
import { tokenizerJson } from "../../src/build/synthetic_tokenizer.ts";
import type { VlmError } from "../../src/errors/vlm_error.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { wasmMemoryEstimate } from "../../src/runtime/wasm_memory.ts";
import { resolve } from "../../src/spec/resolve.ts";
import type { Dtype, VariantSpec } from "../../src/spec/types.ts";
import { getPreset } from "../../variants/mod.ts";

function withDtype(spec: VariantSpec, dtype: Dtype): VariantSpec {
  const modules = Object.fromEntries(
    Object.entries(spec.artifacts.modules).map(([m, a]) => [m, { ...a, dtype }]),
  );
  return { ...spec, artifacts: { ...spec.artifacts, modules } };
}

Deno.test("wasm memory: estimates follow the weight bytes of the chosen dtype", () => {
  const small = wasmMemoryEstimate(resolve(getPreset("smolvlm-256m-instruct")));
  assert.ok(small.fits && small.possible);
  assert.ok(Math.abs(small.weightBytes - 256_484_928 * 4) < 1e6);
  const big = wasmMemoryEstimate(resolve(getPreset("mobilevlm-3b")));
  assert.ok(!big.possible && !big.fits);
  const q4 = wasmMemoryEstimate(resolve(withDtype(getPreset("mobilevlm-1.7b"), "q4")));
  assert.ok(q4.fits);
  assert.ok(q4.weightBytes < big.weightBytes / 4);
});

Deno.test("wasm memory: loadModel refuses MobileVLM-3B fp32 on wasm with model_too_large, before opening any ONNX file", async () => {
  const spec = getPreset("mobilevlm-3b");
  const dir = await Deno.makeTempDir();
  try {
    const write = (name: string, value: unknown) =>
      Deno.writeTextFile(join(dir, name), JSON.stringify(value));
    await write("vlmkit.json", { format: MODULAR_MANIFEST, version: 1, spec, build: null });
    await write("tokenizer.json", tokenizerJson(spec));
    await write("chat_template.json", { chat_template: chatTemplateFor(spec.tokens) });
    await assert.rejects(
      () => loadModel(dir, { backend: "wasm" }),
      (error: VlmError) =>
        error.code === "model_too_large" &&
        /GiB of weights do not fit the wasm backend/.test(error.message) &&
        /--backend native/.test(error.fix ?? ""),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
