// The wasm backend's 4 GiB ceiling: estimated per plan, enforced at load
// before any ONNX file is read. The estimate tracks the heap measured after load
// (the resident weights grown by one heap step at most), not twice the weights.
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { WEIGHT_FORMATS } from "../../src/build/layers/ops.ts";
import { chatTemplateFor } from "../../src/build/chat_templates.ts";
import { MODULAR_MANIFEST } from "../../src/build/modular_manifest.ts";
import { tokenizerJson } from "../../src/build/synthetic_tokenizer.ts";
import type { VlmError } from "../../src/errors/vlm_error.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { wasmMemoryEstimate, wasmResidentBytes } from "../../src/runtime/wasm_memory.ts";
import { resolve } from "../../src/spec/resolve.ts";
import type { Dtype, VariantSpec } from "../../src/spec/types.ts";
import { getPreset, presetNames } from "../../variants/mod.ts";

const MiB = 2 ** 20;
const ROOT = new URL("../../", import.meta.url).pathname;

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

Deno.test("wasm memory (property): the heap estimate is the resident weights plus at most one 20 % growth step", () => {
  const options = fc.record({
    embedding: fc.constantFrom("table" as const, "session" as const, undefined),
    q4Kernel: fc.constantFrom("auto" as const, "original" as const, "int8" as const, undefined),
  });
  fc.assert(
    fc.property(
      fc.constantFrom(...presetNames()),
      fc.constantFrom(...WEIGHT_FORMATS),
      options,
      (name, dtype, o) => {
        const plan = resolve(withDtype(getPreset(name), dtype));
        const e = wasmMemoryEstimate(plan, o);
        const needed = 16 * MiB + e.residentBytes;
        assert.equal(e.residentBytes, wasmResidentBytes(plan, o));
        // Twice the weights (the old load estimate) is far outside this band.
        assert.ok(e.heapBytes >= needed && e.heapBytes <= 1.2 * needed + 1, `${name} ${dtype}`);
        assert.ok(e.heapBytes <= needed + 96 * MiB + 1);
        assert.ok(e.loadCopyBytes > 0 && e.loadCopyBytes <= e.residentBytes + e.weightBytes);
        assert.equal(e.peakBytes, e.heapBytes + e.loadCopyBytes + 512 * MiB);
        assert.equal(e.fits, e.heapBytes + 512 * MiB <= 4 * 1024 ** 3);
        // The embedding table counts only when a session holds it.
        const table = wasmResidentBytes(plan, { ...o, embedding: "table" });
        const session = wasmResidentBytes(plan, { ...o, embedding: "session" });
        assert.ok(session > table);
      },
    ),
  );
});

Deno.test("wasm memory (property): 4-bit matmuls re-packed on wasm hold what int8 holds, kept they hold less", () => {
  fc.assert(fc.property(fc.constantFrom(...presetNames()), (name) => {
    const spec = getPreset(name);
    const int8 = wasmResidentBytes(resolve(withDtype(spec, "int8")));
    for (const dtype of ["q4", "bnb4"] as const) {
      const plan = resolve(withDtype(spec, dtype));
      // Same float parts (fp32) as int8, and one int8 value per matmul weight once re-packed.
      assert.equal(wasmResidentBytes(plan), int8, `${name} ${dtype}`);
      assert.ok(wasmResidentBytes(plan, { q4Kernel: "original" }) < int8);
      // The re-pack holds the original data file and the new bytes while the session opens.
      const e = wasmMemoryEstimate(plan);
      assert.ok(e.loadCopyBytes > wasmMemoryEstimate(plan, { q4Kernel: "original" }).loadCopyBytes);
    }
  }));
});

Deno.test("wasm memory: SmolVLM-256M estimates are at or above the heaps measured after load, and within one step", () => {
  // tools/bench/wasm_heap.ts on `vlm synth` folders (hf layout), heap after loadModel in MiB.
  const measured = [
    { dtype: "int8", embedding: "table", heap: 248.2 },
    { dtype: "int8", embedding: "session", heap: 297.9 },
    { dtype: "q4", embedding: "table", heap: 274.2 },
    { dtype: "q4", embedding: "session", heap: 347.7 },
  ] as const;
  for (const m of measured) {
    const plan = resolve(withDtype(getPreset("smolvlm-256m-instruct"), m.dtype));
    const e = wasmMemoryEstimate(plan, { embedding: m.embedding });
    assert.ok(e.heapBytes >= m.heap * MiB, `${m.dtype} ${m.embedding}: ${e.heapBytes / MiB}`);
    assert.ok(e.heapBytes <= 1.2 * m.heap * MiB, `${m.dtype} ${m.embedding}: ${e.heapBytes / MiB}`);
  }
});

Deno.test("wasm memory: the tiny model's heap after load is between its resident weights and the estimate", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "tools/bench/wasm_heap.ts"), join(ROOT, "models/tiny-smolvlm")],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success);
  const run = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  assert.ok(run.heapBytes >= run.estimate.residentBytes, JSON.stringify(run));
  assert.ok(run.heapBytes <= run.estimate.heapBytes, JSON.stringify(run));
  // Each session got its file (graph and weights) as one JS copy at most that large.
  assert.ok(run.largestSessionBytes <= run.estimate.loadCopyBytes * 1.1, JSON.stringify(run));
});
