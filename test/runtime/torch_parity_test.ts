// Greedy decoding on both backends reproduces the PyTorch model the tiny ONNX
// folders were exported from, on the recorded inputs (40 tokens, EOS ignored).
import assert from "node:assert/strict";
import { loadModel } from "../../src/runtime/load_model.ts";
import { referenceCase, TINY_MODEL, TINY_MODEL_EXTERNAL } from "./_tiny_model.ts";

for (const backend of ["wasm", "native"] as const) {
  for (
    const [label, folder] of [["inline", TINY_MODEL], [
      "external data",
      TINY_MODEL_EXTERNAL,
    ]] as const
  ) {
    Deno.test(`${backend}, ${label} weights: greedy ids equal PyTorch for 40 tokens`, async () => {
      const model = await loadModel(folder, { backend });
      try {
        for (const name of ["split", "single"] as const) {
          const reference = await referenceCase(name);
          const result = await model.generateFromInputs(reference, {
            maxNewTokens: reference.greedyIds.length,
            stopTokenIds: [],
            reusePrefix: false,
          });
          assert.deepEqual(result.tokenIds, reference.greedyIds, `${name} case`);
        }
      } finally {
        await model.dispose();
      }
    });
  }
}
