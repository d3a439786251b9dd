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

Deno.test("JPEG decoding (baseline, progressive, grey, 4:4:4, EXIF 1-8) equals Pillow's exactly", async () => {
  const jpegs = manifest.sources.filter((s) => s.format === "jpeg");
  assert.ok(jpegs.some((s) => s.file.includes("progressive")));
  assert.ok(jpegs.some((s) => s.mode === "L"));
  for (const source of jpegs) {
    const actual = decodeImage(await fixtureBytes(source.file));
    // libjpeg-turbo in WebAssembly, islow IDCT and fancy upsampling like Pillow's libjpeg-turbo;
    // the EXIF orientation is applied once, by exif_orientation.ts.
    const { max } = difference(actual, await fixtureImage(source.decoded));
    assert.equal(max, 0, `${source.file} (${source.mode})`);
  }
});

/** `photo_baseline.jpg` cut inside its Huffman tables, with an end-of-image marker appended. */
async function headerTruncatedJpeg(): Promise<Uint8Array> {
  const whole = await fixtureBytes("sources/photo_baseline.jpg");
  return new Uint8Array([...whole.subarray(0, 300), 0xff, 0xd9]);
}

/**
 * `photo_baseline.jpg` with a Huffman table whose code counts add up to more than
 * 256: every segment length is right, so only libjpeg itself can refuse it.
 */
async function bogusHuffmanJpeg(): Promise<Uint8Array> {
  const bytes = (await fixtureBytes("sources/photo_baseline.jpg")).slice();
  let offset = 2;
  while (bytes[offset + 1] !== 0xc4) offset += 2 + ((bytes[offset + 2] << 8) | bytes[offset + 3]);
  bytes.fill(0xff, offset + 5, offset + 5 + 16); // the 16 code counts of the first table
  return bytes;
}

Deno.test("a JPEG truncated inside its header is refused before decoding, naming the segment", async () => {
  // The end-of-image marker used to get it past the cheap truncation check, to libjpeg.
  const bytes = await headerTruncatedJpeg();
  assert.throws(
    () => decodeImage(bytes),
    (error: unknown) =>
      error instanceof VlmError && error.code === "image_invalid" &&
      /marker 0xc4 at byte \d+ declares \d+ bytes, but \d+ remain/.test(error.message),
  );
});

const bogusHuffmanJpegBytes = await bogusHuffmanJpeg();

Deno.test("a JPEG only libjpeg can refuse (bogus Huffman table) is image_invalid from libjpeg", () => {
  assert.throws(
    () => decodeImage(bogusHuffmanJpegBytes),
    (error: unknown) =>
      error instanceof VlmError && error.code === "image_invalid" && /libjpeg/.test(error.message),
  );
});

Deno.test("the JPEG decoder keeps working after libjpeg errors", async () => {
  // Each libjpeg error exits through an exception that leaves the wasm stack pointer and
  // allocations behind; a reused instance breaks after ~96 of them, so a fresh one is made.
  const bad = bogusHuffmanJpegBytes;
  const source = manifest.sources.find((s) => s.file === "sources/photo_baseline.jpg")!;
  const good = await fixtureBytes(source.file);
  const expected = await fixtureImage(source.decoded);
  for (let i = 0; i < 150; i++) {
    assert.throws(
      () => decodeImage(bad),
      (e: unknown) => e instanceof VlmError && /libjpeg/.test(e.message),
      `error ${i}`,
    );
    assert.equal(difference(decodeImage(good), expected).max, 0, `decode after error ${i}`);
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

Deno.test("without read access to the npm package the JPEG decoder fails typed, naming --allow-read", async () => {
  // The sources read mozjpeg_dec.wasm from @jsquash/jpeg (no raw imports); loading must not prompt.
  const jpeg = new URL("../fixtures/images/sources/photo_baseline.jpg", import.meta.url).pathname;
  const script = `import { decodeImage } from ${
    JSON.stringify(new URL("../../src/image/decode.ts", import.meta.url).href)
  };
try { decodeImage(await Deno.readFile(${JSON.stringify(jpeg)})); console.log("decoded"); }
catch (error) { console.log(JSON.stringify({ code: error.code, fix: error.fix })); }`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, script);
  // `deno run`, not `deno eval`: eval grants every permission.
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      "--no-prompt",
      `--allow-read=${jpeg},${file}`,
      file,
    ],
  }).output().finally(() => Deno.remove(file));
  const stdout = new TextDecoder().decode(output.stdout).trim();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const error = JSON.parse(stdout);
  assert.equal(error.code, "image_unsupported");
  assert.match(error.fix, /--allow-read/);
});
