// External oracle: transformers.js 4.3.1 on the same model folder and the same
// tensors (written by --dump-inputs) must produce the same greedy token ids as
// vlmkit's full pipeline on both backends, and its own processor must build
// the same prompt ids.
import assert from "node:assert/strict";
import { loadModel } from "../../src/runtime/load_model.ts";
import { dumpInputs } from "../../tools/cli/dump_inputs.ts";
import { TINY_MODEL } from "./_tiny_model.ts";

const IMAGES = new URL("../fixtures/images/sources/", import.meta.url);
const NEW_TOKENS = 40;
const CASES = [
  { image: "rgb_noise.png", prompt: "What shape is this?" }, // 2×2 tiles + global
  { image: "wide_strip.png", prompt: "Read the text." }, // 1×2 tiles + global
  { image: "tiny.png", prompt: "How many shapes are there?" }, // upscaled, 2×2 + global
];

async function oracle(dumpDir: string, image: string, prompt: string) {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../tools/oracle/transformers_js.ts", import.meta.url).pathname,
      "--model",
      TINY_MODEL.pathname,
      "--inputs",
      dumpDir,
      "--max-new-tokens",
      String(NEW_TOKENS),
      "--ignore-eos",
      "--image",
      image,
      "--prompt",
      prompt,
    ],
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await command.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as { tokenIds: number[]; processorInputIds: number[] };
}

Deno.test("transformers.js agrees with vlmkit on greedy ids (40 tokens) and prompt ids, both backends", async () => {
  const wasm = await loadModel(TINY_MODEL, { backend: "wasm" });
  const native = await loadModel(TINY_MODEL, { backend: "native" });
  const dumpDir = await Deno.makeTempDir();
  try {
    for (const c of CASES) {
      const image = new URL(c.image, IMAGES).pathname;
      const request = {
        prompt: c.prompt,
        images: [image],
        maxNewTokens: NEW_TOKENS,
        stopTokenIds: [],
        reusePrefix: false,
      };
      const inputs = await wasm.prepareInputs(request);
      await dumpInputs(dumpDir, inputs);
      const reference = await oracle(dumpDir, image, c.prompt);
      assert.deepEqual(inputs.inputIds, reference.processorInputIds, `${c.image}: prompt ids`);
      assert.equal(reference.tokenIds.length, NEW_TOKENS);
      for (const model of [wasm, native]) {
        const ours = await model.generate(request);
        assert.deepEqual(ours.tokenIds, reference.tokenIds, `${c.image} on ${model.backend}`);
      }
    }
  } finally {
    await Promise.all([wasm.dispose(), native.dispose()]);
    await Deno.remove(dumpDir, { recursive: true });
  }
});
