import assert from "node:assert/strict";
import { resolve } from "../../src/spec/resolve.ts";
import { getPreset, presetNames } from "../../variants/mod.ts";
import { smolvlmPaperGrid } from "../../variants/smolvlm_paper_grid.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";

Deno.test("grid: 3 LMs × 2 encoders × 3 ratios = 9 valid + 9 invalid with reasons", () => {
  const grid = smolvlmPaperGrid();
  assert.equal(grid.valid.length, 9);
  assert.equal(grid.invalid.length, 9);
  for (const point of grid.invalid) {
    assert.match(point.name, /-(b16-512-r3|so400m14-384-r[24])$/);
    assert.match(point.reason, /does not divide the (32|27)×\1 patch grid/);
  }
});

Deno.test("grid: contexts are 8k for 135M/360M and 16k for 1.7B; tokens per tile follow r", () => {
  for (const spec of smolvlmPaperGrid().valid) {
    const plan = resolve(spec);
    assert.equal(spec.decoder.contextLength, spec.name.includes("-1.7b-") ? 16384 : 8192);
    const grid = spec.encoder.imageSize === 512 ? 32 : 27;
    const r = spec.projector.kind === "pixel-shuffle-linear" ? spec.projector.scaleFactor : 0;
    assert.equal(plan.tokensPerTile, (grid / r) ** 2);
  }
});

Deno.test("grid: the released pairings reproduce the released models' parameter counts", () => {
  const byName = (name: string) => resolve(getPreset(name)).params.total;
  assert.equal(byName("smolvlm-grid-135m-siglip-b16-512-r4"), 256_484_928);
  assert.equal(byName("smolvlm-grid-360m-siglip-b16-512-r4"), 507_482_304);
  // The 2.2B release has vocab 49155; the grid uses the 49280 layout throughout.
  assert.equal(
    byName("smolvlm-grid-1.7b-siglip-so400m14-384-r3"),
    2_246_272_880 + (49280 - 49155) * 2048 * 2,
  );
});

Deno.test("presets: unknown names fail with suggestions", () => {
  assert.ok(presetNames().includes("smolvlm-grid-135m-siglip-b16-512-r2"));
  assert.throws(() => getPreset("smolvlm-256m"), (error: unknown) => {
    assert.ok(error instanceof VlmError);
    assert.equal(error.code, "spec_not_found");
    assert.match(error.fix ?? "", /smolvlm-256m-instruct/);
    return true;
  });
});
