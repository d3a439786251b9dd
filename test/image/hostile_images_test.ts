// Issue 29's hostile images, each refused with a typed error in milliseconds, plus the
// structure rules they exercise, and a property: any image round-trips through a PNG
// encoding with every row filter, interlaced or not.
import assert from "node:assert/strict";
import fc from "fast-check";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { decodeImage } from "../../src/image/decode.ts";
import { readImageHeader } from "../../src/image/sniff.ts";
import {
  ihdr,
  lateHugeIhdrPng,
  lateIhdrPng,
  png,
  pngChunk,
  truncatedBigJpeg,
  zlib,
} from "../fuzz/_hostile_images.ts";
import { fixtureBytes } from "./_fixtures.ts";

/** Asserts a typed error with `code` whose message matches `pattern`, within `ms`. */
function refusedQuickly(
  bytes: Uint8Array,
  code: string,
  pattern: RegExp,
  options: { maxPixels?: number; ms?: number } = {},
): void {
  const started = performance.now();
  assert.throws(
    () => decodeImage(bytes, { maxPixels: options.maxPixels }),
    (error: unknown) => {
      assert.ok(error instanceof VlmError, `untyped: ${error}`);
      assert.equal(error.code, code, error.message);
      assert.match(error.message, pattern);
      assert.ok(error.fix, "a fix is given");
      return true;
    },
  );
  const ms = performance.now() - started;
  assert.ok(ms < (options.ms ?? 200), `took ${ms.toFixed(0)} ms`);
}

Deno.test("the 92-byte PNG whose second IHDR declares 2^31-1 pixels is refused at once", () => {
  const bytes = lateHugeIhdrPng();
  assert.ok(bytes.length <= 100, `${bytes.length} bytes`);
  refusedQuickly(bytes, "image_invalid", /second IHDR chunk at byte 33/);
});

Deno.test("a late IHDR cannot bypass the pixel limit (64x64 first, 8000x8000 decoded before)", () => {
  const bytes = lateIhdrPng();
  refusedQuickly(bytes, "image_invalid", /second IHDR/, { maxPixels: 4096 });
  assert.throws(() => readImageHeader(bytes), /second IHDR/);
});

Deno.test("the pixel limit is checked against the IHDR the decoder uses", () => {
  const only = png(
    ihdr(8000, 8000, 8, 0),
    pngChunk("IDAT", zlib(new Uint8Array(8000 * 8001))),
    pngChunk("IEND"),
  );
  refusedQuickly(only, "image_too_large", /8000x8000 = 64\.0 MP, over the 0\.0 MP limit/, {
    maxPixels: 4096,
  });
  refusedQuickly(only, "image_too_large", /over the 50\.0 MP limit/);
});

Deno.test("missing rows are an error, not zero padding; surplus data is an error too", () => {
  // Noise, so the data compresses too little to be refused by the ratio check first.
  let state = 29;
  const rows = (n: number, width = 100) =>
    new Uint8Array(n * (1 + width * 3)).map((_, i) =>
      i % (1 + width * 3) === 0 ? 0 : (state = (state * 1103515245 + 12345) >>> 0) >>> 24
    );
  const short = png(ihdr(100, 100), pngChunk("IDAT", zlib(rows(10))), pngChunk("IEND"));
  refusedQuickly(
    short,
    "image_invalid",
    /ends after 3010 of the 30100 bytes a 100x100 image needs/,
  );
  const long = png(ihdr(100, 100), pngChunk("IDAT", zlib(rows(101))), pngChunk("IEND"));
  refusedQuickly(long, "image_invalid", /inflates to more than the 30100 bytes/);
  const exact = png(ihdr(100, 100), pngChunk("IDAT", zlib(rows(100))), pngChunk("IEND"));
  assert.equal(decodeImage(exact).data.length, 30000);
});

Deno.test("image data too small to inflate to the declared size is refused before allocating", () => {
  // 7000x7000 RGB needs 147 MB inflated; 200 bytes of deflate cannot make that.
  const bytes = png(
    ihdr(7000, 7000),
    pngChunk("IDAT", zlib(new Uint8Array(200_000)).subarray(0, 200)),
    pngChunk("IEND"),
  );
  refusedQuickly(bytes, "image_invalid", /200 bytes of image data cannot inflate to the 147007000/);
});

Deno.test("PNG structure rules: CRC, lengths, order, depth/colour pairs, filters", () => {
  const idat = pngChunk("IDAT", zlib(new Uint8Array([0, 1, 2, 3])));
  const good = png(ihdr(1, 1), idat, pngChunk("IEND"));
  assert.deepEqual([...decodeImage(good).data], [1, 2, 3]);

  const badCrc = good.slice();
  badCrc[29] ^= 1; // last CRC byte of IHDR
  refusedQuickly(badCrc, "image_invalid", /chunk IHDR at byte 8 fails its CRC check/);

  const longChunk = good.slice();
  new DataView(longChunk.buffer).setUint32(33, 0x7ffffff0); // the IDAT length
  refusedQuickly(longChunk, "image_invalid", /chunk IDAT at byte 33 declares 2147483632 bytes/);

  refusedQuickly(
    png(pngChunk("tEXt", [65, 0, 66]), ihdr(1, 1), idat),
    "image_invalid",
    /first chunk is tEXt/,
  );
  refusedQuickly(
    png(ihdr(1, 1, 16, 3), idat),
    "image_invalid",
    /bit depth 16 is not allowed with colour type 3/,
  );
  refusedQuickly(png(ihdr(1, 1, 8, 5), idat), "image_invalid", /colour type 5 does not exist/);
  refusedQuickly(
    png(ihdr(1, 1, 8, 3), idat),
    "image_invalid",
    /indexed-colour image without a PLTE/,
  );
  refusedQuickly(png(ihdr(1, 1, 8, 2, 2), idat), "image_invalid", /interlace method 2/);
  refusedQuickly(png(ihdr(1, 1)), "image_invalid", /no image data/);
  refusedQuickly(
    png(ihdr(1, 1), idat, pngChunk("tEXt", [65, 0, 66]), idat),
    "image_invalid",
    /split by other chunks/,
  );
  refusedQuickly(
    png(ihdr(1, 1), idat, pngChunk("PLTE", [0, 0, 0])),
    "image_invalid",
    /PLTE chunk comes after the image data/,
  );
  refusedQuickly(
    png(ihdr(1, 1), pngChunk("IDAT", zlib(new Uint8Array([7, 1, 2, 3])))),
    "image_invalid",
    /row filter type 7/,
  );
  refusedQuickly(
    png(ihdr(1, 1), pngChunk("CgBI", [0]), idat),
    "image_unsupported",
    /critical chunk CgBI/,
  );
  refusedQuickly(
    good.subarray(0, good.length - 20),
    "image_invalid",
    /ends inside a chunk header|declares/,
  );
});

Deno.test("the truncated JPEG with a rewritten 7000x7000 frame header is refused at once", async () => {
  const bytes = truncatedBigJpeg(await fixtureBytes("sources/photo_baseline.jpg"));
  assert.ok(bytes.length < 5000);
  refusedQuickly(
    bytes,
    "image_invalid",
    /scans hold 1500 bytes, fewer than the 191406 a 7000x7000/,
  );
  // Progressive frames need at least one bit per block of the first component.
  const progressive = truncatedBigJpeg(
    await fixtureBytes("sources/photo_progressive.jpg"),
    7000,
    7000,
    100,
  );
  refusedQuickly(progressive, "image_invalid", /fewer than the 95703 a 7000x7000/);
});

Deno.test("JPEG marker rules: one frame header, scans after it, lengths inside the file", async () => {
  const whole = await fixtureBytes("sources/photo_baseline.jpg");
  let sof = 2;
  while (whole[sof + 1] !== 0xc0) sof += 2 + ((whole[sof + 2] << 8) | whole[sof + 3]);
  const sofLength = 2 + ((whole[sof + 2] << 8) | whole[sof + 3]);
  const segment = whole.subarray(sof, sof + sofLength);
  const twice = new Uint8Array([...whole.subarray(0, sof), ...segment, ...whole.subarray(sof)]);
  refusedQuickly(twice, "image_invalid", /second frame header \(SOF\)/);

  const arithmetic = whole.slice();
  arithmetic[sof + 1] = 0xc9;
  refusedQuickly(arithmetic, "image_unsupported", /arithmetic-coded JPEGs are not supported/);

  const sampling = whole.slice();
  sampling[sof + 11] = 0x51; // first component 5x1
  refusedQuickly(sampling, "image_invalid", /sampling factors 5x1/);

  refusedQuickly(
    whole.subarray(0, whole.length - 2),
    "image_invalid",
    /end-of-image marker is missing|ends inside scan data/,
  );
});

/** PNG-encodes RGB(A) samples with the given row filters (cycled), optionally Adam7. */
function encodePng(
  width: number,
  height: number,
  channels: 3 | 4,
  samples: Uint8Array,
  filters: number[],
  interlace: boolean,
): Uint8Array {
  const passes = interlace
    ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [
      0,
      1,
      1,
      2,
    ]]
    : [[0, 0, 1, 1]];
  const raw: number[] = [];
  let n = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.max(0, Math.ceil((width - x0) / dx));
    const ph = Math.max(0, Math.ceil((height - y0) / dy));
    if (pw === 0 || ph === 0) continue;
    let above = new Array(pw * channels).fill(0);
    for (let r = 0; r < ph; r++) {
      const line: number[] = [];
      for (let j = 0; j < pw; j++) {
        const at = ((y0 + r * dy) * width + x0 + j * dx) * channels;
        line.push(...samples.subarray(at, at + channels));
      }
      const type = filters[n++ % filters.length];
      raw.push(type);
      for (let i = 0; i < line.length; i++) {
        const a = i >= channels ? line[i - channels] : 0;
        const b = r > 0 ? above[i] : 0;
        const c = r > 0 && i >= channels ? above[i - channels] : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        const predictor =
          [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][type];
        raw.push((line[i] - predictor) & 0xff);
      }
      above = line;
    }
  }
  return png(
    ihdr(width, height, 8, channels === 3 ? 2 : 6, interlace ? 1 : 0),
    pngChunk("IDAT", zlib(new Uint8Array(raw))),
    pngChunk("IEND"),
  );
}

Deno.test("property: RGB images round-trip through every row filter, interlaced or not", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 19 }),
      fc.integer({ min: 1, max: 19 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      fc.infiniteStream(fc.integer({ min: 0, max: 255 })),
      (width, height, filters, interlace, values) => {
        const samples = Uint8Array.from(values.take(width * height * 3));
        const image = decodeImage(encodePng(width, height, 3, samples, filters, interlace));
        assert.deepEqual(image.data, samples);
      },
    ),
    { seed: 29, numRuns: 200 },
  );
});
