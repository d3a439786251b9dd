/**
 * wllama (llama.cpp compiled to WebAssembly), in headless Chromium, runs the
 * GGUF file the bench writes from the builder's decoder weights and continues
 * a prompt greedily with the same ids as vlmkit's browser bundle on the wasm
 * backend, in the same page; a GGUF whose Q/K rows miss the RoPE permutation
 * does not.
 */
import assert from "node:assert/strict";
import { synthesize } from "../../src/build/synthesize.ts";
import { decoderGgufParts } from "../../tools/bench/gguf/decoder_gguf_file.ts";
import { encodeGguf, type GgufTensor } from "../../tools/bench/gguf/gguf_writer.ts";
import { CHROMIUM } from "../../tools/bench/wllama/driver_job.ts";
import { runAnchorPage } from "../../tools/bench/wllama/page_site.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { writeChunks } from "../../tools/bench/gguf/write_chunks.ts";
import { GGUF_TEST_SPEC } from "./_gguf_decoder_spec.ts";

const spec = GGUF_TEST_SPEC;

/** Undoes the RoPE permutation of an F32 `[out, in]` matrix: ggml's pairs back to halves. */
function unpermuted(tensor: GgufTensor, heads: number): GgufTensor {
  const [inDim, outDim] = tensor.dims;
  const rows = new Float32Array(tensor.data.slice().buffer);
  const out = new Float32Array(rows.length);
  const headDim = outDim / heads;
  for (let o = 0; o < outDim; o++) {
    const head = Math.floor(o / headDim);
    const within = o % headDim;
    const from = head * headDim + 2 * (within % (headDim / 2)) +
      Math.floor(within / (headDim / 2));
    out.set(rows.subarray(from * inDim, (from + 1) * inDim), o * inDim);
  }
  return { ...tensor, data: new Uint8Array(out.buffer) };
}

async function writeGguf(path: string, broken: boolean): Promise<void> {
  const { metadata, tensors } = decoderGgufParts(spec, "F32");
  const fixed = tensors.map((t) =>
    !broken
      ? t
      : t.name.endsWith("attn_q.weight")
      ? unpermuted(t, spec.decoder.heads)
      : t.name.endsWith("attn_k.weight")
      ? unpermuted(t, spec.decoder.kvHeads)
      : t
  );
  await writeChunks(path, encodeGguf(metadata, fixed));
}

const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasChromium) {
  console.warn(
    `wllama agreement test skipped: ${CHROMIUM} is absent (apt-get install chromium)`,
  );
}

Deno.test({
  name:
    "wllama in Chromium continues a prompt with vlmkit's greedy wasm ids on the same F32 weights",
  ignore: !hasChromium,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "vlmkit-wllama-" });
    try {
      await writeFolderAtomically(
        `${dir}/model`,
        synthesize(spec, { layout: "hf-idefics3" }).files,
        false,
      );
      await writeGguf(`${dir}/decoder.gguf`, false);
      await writeGguf(`${dir}/unpermuted.gguf`, true);
      const prompt = "The quick brown fox jumps over the lazy dog, twice.";
      const call = (gguf: string) => ({
        fn: "greedy" as const,
        args: { model: "/model/", gguf: `/gguf/${gguf}`, prompt, tokens: 12 },
      });
      const { results } = await runAnchorPage({
        site: `${dir}/site`,
        routes: { "/model/": `${dir}/model`, "/gguf/": dir },
        isolated: false,
        calls: [call("decoder.gguf"), call("unpermuted.gguf")],
      });
      const [good, broken] = results as {
        vlmkit: number[];
        wllama: number[];
      }[];

      assert.equal(good.vlmkit.length, 12);
      assert.deepEqual(good.wllama, good.vlmkit);
      // Random weights: a collapse onto one repeated id would make the agreement meaningless.
      assert.ok(
        new Set(good.vlmkit).size > 3,
        `too few distinct ids: ${good.vlmkit}`,
      );
      // The same prompt, so the same vlmkit ids; without the permutation llama.cpp's RoPE
      // rotates the wrong pairs and the continuation departs.
      assert.deepEqual(broken.vlmkit, good.vlmkit);
      assert.notDeepEqual(broken.wllama, good.vlmkit);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
