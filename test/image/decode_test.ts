import assert from "node:assert/strict";
import { decodeImage } from "../../src/image/decode.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { readImageSource } from "../../src/image/source.ts";
import { difference, fixtureBytes, fixtureImage, FIXTURES, manifest } from "./_fixtures.ts";

Deno.test("PNG decoding equals Pillow's RGB conversion exactly (alpha on white, grey, palette, 16-bit)", async () => {
  const pngs = manifest.sources.filter((s) => s.format === "png");
  assert.ok(new Set(pngs.map((s) => s.mode)).size >= 5, "fixture modes should vary");
  for (const source of pngs) {
    const actual = decodeImage(await fixtureBytes(source.file));
    const { max } = difference(actual, await fixtureImage(source.decoded));
    assert.equal(max, 0, `${source.file} (${source.mode})`);
  }
});

Deno.test("JPEG decoding (baseline, progressive, grey, EXIF 1-8) is close to libjpeg", async () => {
  const jpegs = manifest.sources.filter((s) => s.format === "jpeg");
  assert.ok(jpegs.some((s) => s.file.includes("progressive")));
  for (const source of jpegs) {
    const actual = decodeImage(await fixtureBytes(source.file));
    const expected = await fixtureImage(source.decoded);
    // jpeg-js upsamples 4:2:0 chroma by replication where libjpeg interpolates, so colour
    // edges differ locally; the mean stays within a few grey levels. A wrong orientation
    // (or size) fails here outright.
    const { mean } = difference(actual, expected);
    const bound = source.file.includes("444") || source.mode === "L" ? 1 : 2.5;
    assert.ok(mean <= bound, `${source.file}: mean |Δ| ${mean.toFixed(3)} > ${bound}`);
  }
});

Deno.test("EXIF orientations 2-8 all come out as the same upright picture", async () => {
  const upright = decodeImage(await fixtureBytes("sources/orient_1.jpg"));
  for (let n = 2; n <= 8; n++) {
    const image = decodeImage(await fixtureBytes(`sources/orient_${n}.jpg`));
    assert.equal(image.width, upright.width, `orientation ${n} width`);
    assert.equal(image.height, upright.height, `orientation ${n} height`);
    assert.ok(difference(image, upright).mean < 3, `orientation ${n} differs from upright`);
  }
});

Deno.test("bad images are refused with a typed error naming the problem", async () => {
  const expectedCode: Record<string, string> = {
    truncated: "image_invalid",
    corrupt: "image_invalid",
    empty: "image_invalid",
    unsupported: "image_unsupported",
    pixel_limit: "image_too_large",
  };
  for (const bad of manifest.bad) {
    const bytes = await fixtureBytes(bad.file);
    assert.throws(
      () => decodeImage(bytes),
      (error: unknown) =>
        error instanceof VlmError && error.code === expectedCode[bad.reason] &&
        typeof error.fix === "string",
      bad.file,
    );
  }
});

Deno.test("the pixel limit is configurable and checked from the header", async () => {
  const bytes = await fixtureBytes("sources/rgb_gradient.png"); // 200×120 = 24,000 px
  assert.throws(
    () => decodeImage(bytes, { maxPixels: 23_999 }),
    (e: unknown) =>
      e instanceof VlmError && e.code === "image_too_large" && /200x120/.test(e.message),
  );
  assert.equal(decodeImage(bytes, { maxPixels: 24_000 }).width, 200);
});

Deno.test("image sources: bytes, ArrayBuffer, Blob, file URL and path give the same bytes", async () => {
  const path = new URL("sources/grey.png", FIXTURES);
  const bytes = await Deno.readFile(path);
  for (
    const source of [bytes, bytes.buffer, new Blob([bytes]), path, path.pathname, path.href]
  ) {
    assert.deepEqual(await readImageSource(source as never), bytes);
  }
  await assert.rejects(
    readImageSource("/nonexistent/picture.png"),
    (e: unknown) => e instanceof VlmError && /does not exist/.test(e.message),
  );
});
