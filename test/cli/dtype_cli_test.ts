// vlm run and vlm inspect on a folder holding one non-fp32 form, without --dtype.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runVlm } from "./_vlm.ts";

const RW = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi"];

Deno.test("cli: run and inspect detect an int8-only folder's dtype; none complete is a typed error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "int8");
    const synth = await runVlm(RW, [
      ...["synth", "--variant", "smolvlm-256m-instruct", "--scale", "test"],
      ...["--layout", "hf", "--dtype", "int8", "--out", out],
    ]);
    assert.equal(synth.code, 0, synth.stderr);
    const inspect = await runVlm(RW, ["inspect", out, "--json"]);
    assert.equal(inspect.code, 0, inspect.stdout + inspect.stderr);
    const report = JSON.parse(inspect.stdout);
    assert.deepEqual(Object.values(report.dtypes), ["int8", "int8", "int8"]);
    assert.deepEqual(report.missing, []);
    const image = new URL("../fixtures/images/sources/checker.png", import.meta.url).pathname;
    const runArgs = ["run", "--model", out, "--image", image, "--prompt", "What is this?"];
    const run = await runVlm(RW, [...runArgs, "--max-new-tokens", "2", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).tokenIds.length, 2);

    await Deno.remove(join(out, "onnx", "embed_tokens_int8.onnx"));
    const broken = await runVlm(RW, [...runArgs, "--json"]);
    assert.notEqual(broken.code, 0);
    const error = JSON.parse(broken.stdout || broken.stderr).error;
    assert.equal(error.code, "model_invalid");
    assert.match(error.message, /embed_tokens: none/);
    assert.match(error.message, /decoder_model_merged: int8/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
