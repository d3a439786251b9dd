import assert from "node:assert/strict";
import fc from "fast-check";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { countSequence } from "../../src/tokens/sequence.ts";
import { estimatedTextCounter, type TextTokenCounter } from "../../src/tokens/text_counter.ts";
import { presetPlan } from "../_plans.ts";

const smol = presetPlan("smolvlm-256m-instruct");

Deno.test("sequence: the issue's vectors (640×480 → 832, 2048×100 → 320, unsplit → 64)", () => {
  assert.equal(countSequence(smol, { images: [{ width: 640, height: 480 }] }).imageTokens, 832);
  assert.equal(countSequence(smol, { images: [{ width: 2048, height: 100 }] }).imageTokens, 320);
  assert.equal(
    countSequence(smol, { images: [{ width: 640, height: 480 }], split: false }).imageTokens,
    64,
  );
});

// Counts every character as one token, so text tokens can be checked by hand.
const charCounter: TextTokenCounter = { exact: true, count: (text) => text.length };

Deno.test("sequence: SmolVLM text tokens are the template's added tokens plus the text runs", () => {
  const count = countSequence(smol, {
    images: [{ width: 100, height: 100 }],
    prompt: "Hi",
    split: false,
    counter: charCounter,
  });
  // <|im_start|> "User:" <fake><global-img> 64×<image> <fake> "Hi" <end_of_utterance> "\nAssistant:"
  assert.equal(count.imageTokens, 64);
  assert.equal(count.textTokens, 1 + 5 + 3 + 2 + 1 + "\nAssistant:".length);
  assert.equal(count.textTokensExact, true);
  assert.equal(count.totalTokens, count.imageTokens + count.textTokens);
});

Deno.test("sequence: 2.2B row/col markers are plain text, not added tokens", () => {
  const big = presetPlan("smolvlm-instruct");
  const count = countSequence(big, { images: [{ width: 768, height: 384 }], counter: charCounter });
  // 768×384 is upscaled to 1536×768: 2×4 tiles + global
  assert.equal(count.images[0].tiles, 9);
  assert.equal(count.imageTokens, 9 * 81);
  // "<row_1_col_1>" and "<global-img>" now count character by character
  assert.ok(count.textTokens > 2 * "<row_1_col_1>".length + "<global-img>".length);
});

Deno.test("sequence: MobileVLM replaces one <image> with 144 features and adds a BOS", () => {
  const mobile = presetPlan("mobilevlm-1.7b");
  const count = countSequence(mobile, {
    images: [{ width: 1000, height: 300 }],
    prompt: "x",
    counter: charCounter,
  });
  assert.equal(count.imageTokens, 144);
  assert.equal(count.contextLength, 2048);
  const systemAndRoles =
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: "
      .length;
  assert.equal(count.textTokens, 1 + systemAndRoles + "\nx ASSISTANT:".length);
  assert.throws(
    () => countSequence(mobile, { images: [{ width: 1, height: 1 }, { width: 1, height: 1 }] }),
    VlmError,
  );
});

Deno.test("sequence: fits compares total plus reserved output with the context", () => {
  const images = Array.from({ length: 7 }, () => ({ width: 640, height: 480 }));
  const count = countSequence(smol, { images });
  assert.equal(count.imageTokens, 7 * 832);
  assert.equal(count.fits, count.totalTokens <= 8192);
  const tight = countSequence(smol, { images, reserveForOutput: 8192 - count.totalTokens + 1 });
  assert.equal(tight.fits, false);
});

const size = fc.record({
  width: fc.integer({ min: 1, max: 8000 }),
  height: fc.integer({ min: 1, max: 8000 }),
});

Deno.test("property: image tokens = Σ tiles · tokensPerTile, and total = image + text", () => {
  fc.assert(
    fc.property(fc.array(size, { minLength: 1, maxLength: 5 }), fc.boolean(), (images, split) => {
      const count = countSequence(smol, { images, split, prompt: "What is in the image?" });
      const tiles = count.images.reduce((sum, image) => sum + image.tiles, 0);
      assert.equal(count.imageTokens, tiles * smol.tokensPerTile);
      assert.ok(count.images.every((image) => image.tokens === image.tiles * 64));
      assert.equal(count.totalTokens, count.imageTokens + count.textTokens);
    }),
  );
});

Deno.test("property: adding an image adds exactly its tokens plus its markers", () => {
  fc.assert(
    fc.property(size, size, (a, b) => {
      const one = countSequence(smol, { images: [a], counter: charCounter });
      const two = countSequence(smol, { images: [a, b], counter: charCounter });
      const added = two.images[1];
      assert.equal(two.imageTokens - one.imageTokens, added.tokens);
      // markers: fake+row/col per tile, a newline per row and one before the global, fake+global+fake
      const markers = added.rows > 0 ? 2 * added.rows * added.cols + added.rows + 1 + 3 : 3;
      assert.equal(two.textTokens - one.textTokens, markers);
    }),
  );
});

Deno.test("estimate: text counts grow with text and are flagged inexact", () => {
  assert.equal(estimatedTextCounter.exact, false);
  assert.equal(estimatedTextCounter.count(""), 0);
  assert.ok(estimatedTextCounter.count("Describe this image in detail.") >= 5);
  fc.assert(
    fc.property(fc.string(), fc.string(), (a, b) => {
      assert.ok(estimatedTextCounter.count(a + " " + b) >= estimatedTextCounter.count(a));
    }),
  );
});
