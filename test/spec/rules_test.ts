import assert from "node:assert/strict";
import fc from "fast-check";
import { SpecValidationError } from "../../src/errors/spec_error.ts";
import { resolve } from "../../src/spec/resolve.ts";
import type { VariantSpec } from "../../src/spec/types.ts";
import { parseSpec, validateSpec } from "../../src/spec/validate.ts";
import { presetCopy } from "../_plans.ts";

function issuesOf(spec: unknown) {
  const result = validateSpec(spec);
  assert.equal(result.valid, false, "expected the spec to be invalid");
  return result.issues;
}

function expectIssue(mutate: (spec: VariantSpec) => void, path: string, fixPattern: RegExp) {
  const spec = presetCopy("smolvlm-256m-instruct");
  mutate(spec);
  const issue = issuesOf(spec).find((candidate) => candidate.path === path);
  assert.ok(issue, `expected an issue at ${path}, got ${JSON.stringify(issuesOf(spec))}`);
  assert.match(issue.fix ?? "", fixPattern);
}

Deno.test("rules: r must divide the patch grid, and the fix lists the valid ratios", () => {
  expectIssue(
    (s) => (s.projector = { kind: "pixel-shuffle-linear", scaleFactor: 3 }),
    "projector.scaleFactor",
    /r ∈ \{2, 4, 8\}/,
  );
});

Deno.test("rules: imageSize must be a multiple of patchSize unless remainder pixels are declared", () => {
  expectIssue((s) => (s.encoder.imageSize = 520), "encoder.imageSize", /512|dropped/);
  expectIssue((s) => (s.encoder.remainderPixels = "dropped"), "encoder.remainderPixels", /none/);
});

Deno.test("rules: GQA heads, hidden = heads·headDim", () => {
  expectIssue((s) => (s.decoder.kvHeads = 4), "decoder.kvHeads", /divides heads/);
  expectIssue((s) => (s.decoder.headDim = 60), "decoder.headDim", /headDim to 64/);
});

Deno.test("rules: tile must equal the encoder input and fit the longest edge", () => {
  expectIssue((s) => (s.image.tileSize = 384), "image.tileSize", /512/);
  expectIssue(
    (s) => {
      s.image.longestEdge = 256;
    },
    "image.tileSize",
    /multiple of 512/,
  );
});

Deno.test("rules: the context must hold one fully split image", () => {
  expectIssue((s) => (s.decoder.contextLength = 1000), "decoder.contextLength", /above 1088/);
});

Deno.test("rules: worst-case tiles must not exceed maxTiles; grid must have row/col tokens", () => {
  expectIssue((s) => (s.image.maxTiles = 10), "image.maxTiles", /17/);
  expectIssue(
    (s) => {
      s.image.longestEdge = 4096;
      s.image.maxTiles = 65;
    },
    "tokens.rowCol",
    /3072/,
  );
});

Deno.test("rules: token ids must be inside the vocabulary", () => {
  expectIssue((s) => (s.tokens.image.id = 50000), "tokens.image.id", /tokenizer\.json/);
});

Deno.test("rules: layouts need exactly their modules; hf-idefics3 needs pixel shuffle", () => {
  expectIssue((s) => delete s.artifacts.modules.embed_tokens, "artifacts.modules", /embed_tokens/);
  const spec = presetCopy("mobilevlm-1.7b");
  spec.artifacts.layout = "hf-idefics3";
  const paths = issuesOf(spec).map((issue) => issue.path);
  assert.ok(paths.includes("artifacts.layout") && paths.includes("artifacts.modules"));
});

Deno.test("rules: video frames are one tile and the frame budget fits the context", () => {
  const spec = presetCopy("smolvlm2-256m-video");
  spec.video!.maxFrames = 200;
  spec.video!.frameSize = 384;
  const paths = issuesOf(spec).map((issue) => issue.path);
  assert.deepEqual(paths.sort(), ["video.frameSize", "video.maxFrames"]);
});

Deno.test("schema: unknown keys and missing fields are errors naming the path", () => {
  const spec = presetCopy("smolvlm-256m-instruct") as unknown as Record<
    string,
    Record<string, unknown>
  >;
  spec.encoder.hiddenSize = 768; // a typo for "hidden"
  delete spec.decoder.ropeTheta;
  const issues = issuesOf(spec);
  const unknown = issues.find((issue) => issue.path === "encoder");
  assert.match(unknown?.fix ?? "", /'hiddenSize'/);
  const missing = issues.find((issue) => issue.path === "decoder.ropeTheta");
  assert.match(missing?.fix ?? "", /required/);
});

Deno.test("parseSpec/resolve throw one SpecValidationError listing every issue", () => {
  const spec = presetCopy("smolvlm-256m-instruct");
  spec.decoder.kvHeads = 4;
  spec.projector = { kind: "pixel-shuffle-linear", scaleFactor: 3 };
  assert.throws(() => resolve(spec), (error: unknown) => {
    assert.ok(error instanceof SpecValidationError);
    assert.equal(error.code, "spec_invalid");
    assert.deepEqual(error.issues.map((i) => i.path).sort(), [
      "decoder.kvHeads",
      "projector.scaleFactor",
    ]);
    assert.match(error.message, /smolvlm-256m-instruct/);
    return true;
  });
  assert.throws(() => parseSpec("not a spec"), SpecValidationError);
});

Deno.test("property: validation never throws on arbitrary JSON, and invalid results always carry issues", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const result = validateSpec(value);
      assert.equal(result.valid, false);
      assert.ok(result.issues.length > 0);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: pixel-shuffle validity is exactly 'r divides floor(imageSize/patch)'", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 8, max: 64 }),
      fc.integer({ min: 8, max: 32 }),
      fc.integer({ min: 1, max: 6 }),
      (grid, patch, r) => {
        const spec = presetCopy("smolvlm-256m-instruct");
        spec.encoder.imageSize = grid * patch;
        spec.encoder.patchSize = patch;
        spec.image.tileSize = grid * patch;
        spec.image.longestEdge = 4 * grid * patch;
        spec.decoder.contextLength = 1 << 20;
        spec.projector = { kind: "pixel-shuffle-linear", scaleFactor: r };
        const result = validateSpec(spec);
        assert.equal(result.valid, grid % r === 0, JSON.stringify(result.issues));
        if (result.valid) assert.equal(resolve(spec).tokensPerTile, (grid / r) ** 2);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: mutating one numeric field either stays valid or yields issues with a path", () => {
  const paths: [keyof VariantSpec, string][] = [
    ["encoder", "hidden"],
    ["encoder", "heads"],
    ["encoder", "imageSize"],
    ["decoder", "heads"],
    ["decoder", "kvHeads"],
    ["decoder", "hidden"],
    ["decoder", "contextLength"],
    ["image", "longestEdge"],
    ["image", "tileSize"],
    ["image", "maxTiles"],
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...paths),
      fc.integer({ min: -5, max: 20_000 }),
      ([group, key], value) => {
        const spec = presetCopy("smolvlm-256m-instruct") as unknown as Record<
          string,
          Record<string, number>
        >;
        spec[group][key] = value;
        const result = validateSpec(spec);
        if (!result.valid) {
          assert.ok(
            result.issues.every((issue) => issue.path.length > 0 && issue.message.length > 0),
          );
        } else {
          assert.doesNotThrow(() => resolve(result.spec));
        }
      },
    ),
    { numRuns: 500 },
  );
});
