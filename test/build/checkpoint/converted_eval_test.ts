// The shipped tiny SmolVLM, saved as a BF16 checkpoint under transformers'
// names (test/fixtures/tiny-smolvlm-checkpoint, tools/train/export_checkpoint.py)
// and converted with `vlm convert` (spec from its config.json), answers the
// held-out evaluation items as the shipped ONNX folder does. The full 500-item
// count is `deno run -A tools/convert_agreement.ts` (500 of 500 when written).
import assert from "node:assert/strict";
import { convertedAgreement } from "../../../tools/convert_agreement.ts";

const COUNT = 100;

Deno.test({
  name:
    "a converted BF16 checkpoint of the shipped model gives its greedy answers (first 100 items)",
  sanitizeResources: false,
  fn: async () => {
    const result = await convertedAgreement({ count: COUNT });
    assert.equal(result.count, COUNT);
    // BF16 rounding may flip a near-tie; more than one flip in 100 is a conversion fault.
    assert.ok(result.agreed >= COUNT - 1, JSON.stringify(result.differing, null, 2));
  },
});

Deno.test({
  name: "the same checkpoint converted to fp16 (float16 weights and boundaries) keeps the answers",
  sanitizeResources: false,
  fn: async () => {
    const result = await convertedAgreement({ count: 40, dtype: "fp16" });
    assert.equal(result.count, 40);
    assert.ok(result.agreed >= 39, JSON.stringify(result.differing, null, 2));
  },
});
