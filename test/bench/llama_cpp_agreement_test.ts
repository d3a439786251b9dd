/**
 * llama.cpp, an engine vlmkit did not write, runs the GGUF file the bench
 * writes from the builder's decoder weights and continues a prompt greedily
 * with the same ids as vlmkit's ONNX decoder: the GGUF mapping (names,
 * row layout, the Q/K RoPE permutation, norms, tied head) is what both read.
 */
import assert from "node:assert/strict";
import { synthesize } from "../../src/build/synthesize.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { decoderGguf } from "../../tools/bench/gguf/decoder_gguf_file.ts";
import { runLlamaCppScript } from "../../tools/bench/llama_cpp/install.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { writeChunks } from "../../tools/bench/gguf/write_chunks.ts";
import { GGUF_TEST_SPEC } from "./_gguf_decoder_spec.ts";

const spec = GGUF_TEST_SPEC;

function writeGguf(path: string, type: "F32" | "Q8_0" | "Q4_0"): Promise<void> {
  return writeChunks(path, decoderGguf(spec, type));
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
