/**
 * llama.cpp, an engine vlmkit did not write, runs the GGUF file the bench
 * writes from the builder's decoder weights and continues a prompt greedily
 * with the same ids as vlmkit's ONNX decoder: the GGUF mapping (names,
 * row layout, the Q/K RoPE permutation, norms, tied head) is what both read.
 */
import assert from "node:assert/strict";
import { synthesize } from "../../src/build/synthesize.ts";
import { scaledSpec } from "../../src/build/test_scale.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { parseSpec } from "../../src/spec/validate.ts";
import { decoderGguf } from "../../tools/bench/gguf/decoder_gguf_file.ts";
import { runLlamaCppScript } from "../../tools/bench/llama_cpp/install.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { getPreset } from "../../variants/mod.ts";

// Test scale, with a decoder wide enough for 32-value quantization blocks (hidden 64).
const base = scaledSpec(getPreset("smolvlm-256m-instruct"), "test");
const spec = parseSpec({
  ...base,
  decoder: {
    ...base.decoder,
    hidden: 64,
    heads: 4,
    kvHeads: 2,
    headDim: 16,
    intermediate: 128,
  },
});

async function writeGguf(
  path: string,
  type: "F32" | "Q8_0" | "Q4_0",
): Promise<void> {
  const file = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    for (const chunk of decoderGguf(spec, type)) {
      let at = 0;
      while (at < chunk.length) at += await file.write(chunk.subarray(at));
    }
  } finally {
    file.close();
  }
}

Deno.test("llama.cpp continues a prompt with vlmkit's greedy ids on the same F32 decoder weights", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-gguf-" });
  try {
    const built = synthesize(spec, { layout: "hf-idefics3" });
    await writeFolderAtomically(`${dir}/model`, built.files, false);
    const model = await loadModel(`${dir}/model`, {
      backend: "native",
      threads: 1,
    });
    const prompt = "The quick brown fox jumps over the lazy dog, twice.";
    const { inputIds } = await model.prepareInputs({ prompt });
    const ours = await model.generate({
      prompt,
      maxNewTokens: 12,
      stopTokenIds: [],
    });
    await model.dispose();

    await writeGguf(`${dir}/decoder.gguf`, "F32");
    const theirs = await runLlamaCppScript("greedy_ids.mjs", [
      "--model",
      `${dir}/decoder.gguf`,
      "--ids",
      inputIds.join(","),
      "--tokens",
      "12",
    ]) as { ids: number[] };
    assert.deepEqual(theirs.ids, ours.tokenIds);
    // Random weights: a collapse onto one repeated id would make the agreement meaningless.
    assert.ok(
      new Set(ours.tokenIds).size > 3,
      `too few distinct ids: ${ours.tokenIds}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("llama.cpp loads the Q8_0 and Q4_0 files and stays close to the F32 continuation", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-gguf-" });
  try {
    const ids = Array.from({ length: 24 }, (_, i) => 300 + ((i * 37) % 200));
    const run = async (type: "F32" | "Q8_0" | "Q4_0") => {
      await writeGguf(`${dir}/${type}.gguf`, type);
      const out = await runLlamaCppScript("greedy_ids.mjs", [
        "--model",
        `${dir}/${type}.gguf`,
        "--ids",
        ids.join(","),
        "--tokens",
        "4",
      ]) as { ids: number[] };
      return out.ids;
    };
    const f32 = await run("F32");
    // 8-bit blocks keep the first greedy step of this seeded model; 4-bit loads and decodes.
    assert.equal((await run("Q8_0"))[0], f32[0]);
    assert.equal((await run("Q4_0")).length, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
