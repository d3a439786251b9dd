// vlm synth and vlm inspect as users run them: real subprocesses, real files.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runVlm } from "./_vlm.ts";

const RW = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi"];

Deno.test("cli: synth writes a folder atomically, refuses to overwrite without --force, and inspect finds no mismatch", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "mobilevlm");
    const args = [
      "synth",
      "--variant",
      "mobilevlm-v2-1.7b",
      "--scale",
      "test",
      "--seed",
      "4",
      "--out",
      out,
      "--json",
    ];
    const first = await runVlm(RW, args);
    assert.equal(first.code, 0, first.stderr);
    const summary = JSON.parse(first.stdout);
    assert.equal(summary.layout, "modular");
    assert.deepEqual(
      summary.files.map((f: { path: string }) => f.path).sort(),
      [
        "chat_template.json",
        "onnx/decoder.onnx",
        "onnx/embed_tokens.onnx",
        "onnx/encoder.onnx",
        "onnx/projector.onnx",
        "tokenizer.json",
        "vlmkit.json",
      ],
    );
    assert.equal(summary.wasm.fits, true);
    // The edge verdict is an estimate of the whole process, runtime included: even this
    // test-scale model does not fit 128 or 256 MB.
    assert.equal(summary.edge.kind, "estimate");
    assert.deepEqual(
      summary.edge.platforms.map((p: { photo: boolean }) => p.photo),
      [false, false, true],
    );
    // Nothing but the folder itself is left beside it (no staging directories).
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["mobilevlm"]);

    const again = await runVlm(RW, args);
    assert.equal(again.code, 2);
    assert.match(JSON.parse(again.stdout).error.message, /already exists and is not empty/);
    const forced = await runVlm(RW, [...args, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["mobilevlm"]);

    const inspect = await runVlm(RW, ["inspect", out, "--json"]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const report = JSON.parse(inspect.stdout);
    assert.deepEqual(report.mismatches, []);
    assert.deepEqual(report.missing, []);
    const projector = report.sessions.find((s: { file: string }) =>
      s.file === "onnx/projector.onnx"
    );
    assert.deepEqual(projector.outputs, [{
      name: "image_features",
      type: "float32",
      dims: ["num_image_tokens", 32],
    }]);
    assert.equal(projector.operators.AveragePool, 1);

    // Against another variant, every difference is named.
    const wrong = await runVlm(RW, ["inspect", out, "--variant", "mobilevlm-1.7b", "--json"]);
    assert.equal(wrong.code, 1);
    const mismatches: string[] = JSON.parse(wrong.stdout).mismatches;
    assert.ok(
      mismatches.some((m) =>
        /onnx\/encoder\.onnx: output "features" has shape \[num_tiles, 576, 32\], the plan expects \[\?, 576, 1024\]/
          .test(m)
      ),
      mismatches.join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: synth with --layout hf writes an hf-idefics3 folder that vlm run loads; int8 and q4 files are named by suffix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const dtype of ["int8", "q4"]) {
      const out = join(dir, dtype);
      const synth = await runVlm(RW, [
        "synth",
        "--variant",
        "smoldocling-256m",
        "--scale",
        "test",
        "--dtype",
        dtype,
        "--out",
        out,
      ]);
      assert.equal(synth.code, 0, synth.stderr);
      const files = [...Deno.readDirSync(join(out, "onnx"))].map((e) => e.name).sort();
      assert.deepEqual(files, [
        `decoder_model_merged_${dtype}.onnx`,
        `embed_tokens_${dtype}.onnx`,
        `vision_encoder_${dtype}.onnx`,
      ]);
      const image = new URL("../fixtures/images/sources/checker.png", import.meta.url).pathname;
      // Both backends run the quantized operators (DequantizeLinear, com.microsoft.MatMulNBits).
      for (const backend of ["wasm", "native"]) {
        const run = await runVlm(RW, [
          "run",
          "--model",
          out,
          "--dtype",
          dtype,
          "--backend",
          backend,
          "--image",
          image,
          "--prompt",
          "Convert this page to docling.",
          "--max-new-tokens",
          "3",
          "--json",
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(JSON.parse(run.stdout).tokenIds.length, 3);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: inspect reads a PyTorch-exported hf-idefics3 folder and matches it against its own configs", async () => {
  const fixture = new URL("../fixtures/tiny-idefics3", import.meta.url).pathname;
  const result = await runVlm(RW, ["inspect", fixture, "--json"]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.layout, "hf-idefics3");
  assert.deepEqual(report.mismatches, []);
  const vision = report.sessions.find((s: { file: string }) =>
    s.file === "onnx/vision_encoder.onnx"
  );
  assert.deepEqual(vision.inputs.map((t: { name: string; type: string }) => [t.name, t.type]), [
    ["pixel_values", "float32"],
    ["pixel_attention_mask", "bool"],
  ]);
});

Deno.test("cli: synth and inspect reject bad input with a usage error naming the flag", async () => {
  const bad = await runVlm(RW, [
    "synth",
    "--variant",
    "mobilevlm-1.7b",
    "--out",
    "/tmp/never",
    "--dtype",
    "fp8",
    "--json",
  ]);
  assert.equal(bad.code, 2);
  assert.match(
    JSON.parse(bad.stdout).error.message,
    /--dtype fp8 is not one of fp32, fp16, int8, uint8, q4, q4f16, bnb4/,
  );
  const layout = await runVlm(RW, [
    "synth",
    "--variant",
    "mobilevlm-1.7b",
    "--out",
    "/tmp/never",
    "--layout",
    "hf",
    "--scale",
    "test",
    "--json",
  ]);
  assert.equal(layout.code, 2);
  assert.match(JSON.parse(layout.stdout).error.fix, /--layout modular/);
  const missing = await runVlm(RW, ["inspect", "/tmp/definitely-not-here", "--json"]);
  assert.equal(missing.code, 2);
  assert.match(JSON.parse(missing.stdout).error.message, /cannot read \/tmp\/definitely-not-here/);
});
