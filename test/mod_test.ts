/** The public entry point: the README example, through mod.ts only. */
import assert from "node:assert/strict";
import * as vlmkit from "../mod.ts";

Deno.test("mod.ts: the README example works through the public API", () => {
  const plan = vlmkit.resolve(vlmkit.getPreset(vlmkit.DEFAULT_PRESET));
  const count = vlmkit.countSequence(plan, {
    images: [{ width: 640, height: 480 }],
    prompt: "What is in this image?",
  });
  assert.deepEqual(
    [count.images[0].rows, count.images[0].cols, count.images[0].tiles, count.images[0].tokens],
    [3, 4, 13, 832],
  );
  assert.deepEqual(count.images[0].resized, { width: 2048, height: 1536 });
  assert.equal(count.fits, true);
});

Deno.test("mod.ts: exports the error classes and validators", () => {
  assert.ok(
    new vlmkit.SpecValidationError("x", [{ path: "a", message: "b" }]) instanceof vlmkit.VlmError,
  );
  assert.equal(vlmkit.validateSpec({}).valid, false);
  assert.equal(vlmkit.presetNames().length, 12 + 9);
});

Deno.test("mod.ts: the public surface is the curated list, not every module's exports", () => {
  // Values only (types leave no trace at run time). A new export is a deliberate API decision:
  // add it here; internals (UsageError, the ONNX writer, test helpers) belong to no entry point.
  assert.deepEqual(Object.keys(vlmkit).sort(), [
    "DEFAULT_PRESET",
    "GenerationStream",
    "SpecValidationError",
    "VlmError",
    "VlmModel",
    "countRequest",
    "countSequence",
    "createServerHandler",
    "getPreset",
    "hostOnnxRuntime",
    "loadModel",
    "parseSpec",
    "planBudget",
    "presetNames",
    "resolve",
    "responseFormatProcessor",
    "validateSpec",
  ]);
});
