// The builder at full size: SmolVLM-256M-Instruct exactly as specified
// (256,484,928 parameters, 1.03 GB fp32) synthesizes, loads and generates.
import assert from "node:assert/strict";
import { join } from "node:path";
import { synthesize } from "../../src/build/synthesize.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { getPreset } from "../../variants/mod.ts";

Deno.test("full size: smolvlm-256m-instruct synthesizes with the published parameter count and generates", async () => {
  const result = synthesize(getPreset("smolvlm-256m-instruct"), { seed: 0 });
  const stored = Object.values(result.parameters).reduce((a, b) => a + b, 0);
  assert.equal(stored, 256_484_928);
  assert.equal(result.plan.params.total, 256_484_928);
  const dir = await Deno.makeTempDir();
  try {
    await writeFolderAtomically(join(dir, "smolvlm-256m"), result.files, false);
    result.files.length = 0; // let the 1 GB of bytes go before loading
    const model = await loadModel(join(dir, "smolvlm-256m"), { backend: "native" });
    try {
      const out = await model.generate({
        prompt: "Describe the image.",
        images: [new URL("../fixtures/images/sources/checker.png", import.meta.url).pathname],
        split: false,
        maxNewTokens: 3,
        stopTokenIds: [],
      });
      assert.equal(out.imageTokens, 64);
      assert.equal(out.tokenIds.length, 3);
      assert.ok(out.tokenIds.every((id) => id >= 0 && id < 49280));
    } finally {
      await model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
