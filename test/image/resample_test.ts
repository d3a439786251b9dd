import assert from "node:assert/strict";
import fc from "fast-check";
import { resizeRgb } from "../../src/image/resample.ts";
import { createRgbImage } from "../../src/image/raster.ts";
import { difference, fixtureImage, manifest } from "./_fixtures.ts";

Deno.test("resize matches Pillow LANCZOS/BICUBIC on every fixture case", async () => {
  assert(manifest.resize.length >= 20, "expected at least 20 Pillow resize cases");
  const sources = new Set(manifest.resize.map((c) => c.source));
  assert(sources.size >= 10, "expected at least 10 distinct source images");
  let exact = 0;
  let worstMean = 0;
  for (const c of manifest.resize) {
    const source = await fixtureImage(c.source);
    const expected = await fixtureImage(c.expected);
    const actual = resizeRgb(source, c.width, c.height, c.filter);
    const { mean, max } = difference(actual, expected);
    // Issue bound: mean ≤ 0.5 and max ≤ 2 grey levels.
    assert(mean <= 0.5 && max <= 2, `${c.id}: mean ${mean.toFixed(3)} max ${max}`);
    worstMean = Math.max(worstMean, mean);
    if (max === 0) exact++;
  }
  // The implementation follows Pillow's fixed-point arithmetic, so almost every case is exact.
  assert(exact >= manifest.resize.length - 2, `only ${exact}/${manifest.resize.length} exact`);
});

Deno.test("resize to the same size returns the image unchanged", () => {
  const image = createRgbImage(7, 5);
  image.data.fill(9);
  assert.deepEqual(resizeRgb(image, 7, 5, "lanczos"), image);
});

Deno.test("resize rejects non-positive or fractional targets", () => {
  const image = createRgbImage(4, 4);
  assert.throws(() => resizeRgb(image, 0, 4, "lanczos"), RangeError);
  assert.throws(() => resizeRgb(image, 2.5, 4, "bicubic"), RangeError);
});

Deno.test("property: a constant image stays constant under any resize", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom("lanczos" as const, "bicubic" as const, "bilinear" as const),
      (w, h, tw, th, value, filter) => {
        const image = createRgbImage(w, h);
        image.data.fill(value);
        const out = resizeRgb(image, tw, th, filter);
        assert.deepEqual(out.width, tw);
        assert.deepEqual(out.height, th);
        // Normalised weights sum to 1 ± rounding: at most one grey level off.
        for (const v of out.data) assert(Math.abs(v - value) <= 1, `${v} vs ${value}`);
      },
    ),
  );
});
