import assert from "node:assert/strict";
import fc from "fast-check";
import { createRgbImage, type RgbImage } from "../../src/image/raster.ts";
import { resizeRgb } from "../../src/image/resample.ts";
import { resizeRgbScalar } from "../../src/image/resample_scalar.ts";
import {
  compileResampler,
  resizeWasm,
  setWasmResampling,
  wasmResamplingAvailable,
} from "../../src/image/resample_wasm.ts";
import type { Resample } from "../../src/spec/types.ts";
import { fixtureImage, manifest } from "./_fixtures.ts";

const FILTERS: Resample[] = ["lanczos", "bicubic", "bilinear"];

function noise(width: number, height: number, channels: number, seed: number): Uint8Array {
  const data = new Uint8Array(width * height * channels);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    // Mostly extremes and smooth runs: Lanczos overshoot then exercises clipping at 0 and 255.
    data[i] = (s & 3) === 0 ? 0 : (s & 3) === 1 ? 255 : (s >>> 8) & 255;
  }
  return data;
}

/** Index of the first differing byte, or -1 (assert.deepEqual on megabytes of bytes is slow). */
function firstDifference(a: Uint8Array | undefined, b: Uint8Array): number {
  if (!a) throw new Error("the wasm path did not run");
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Channel `c` of interleaved pixels, replicated into an RGB image. */
function channelAsRgb(data: Uint8Array, w: number, h: number, channels: number, c: number) {
  const image = createRgbImage(w, h);
  for (let p = 0; p < w * h; p++) image.data.fill(data[p * channels + c], p * 3, p * 3 + 3);
  return image;
}

/** The TypeScript reference for any channel count: channels resampled independently. */
function scalarReference(
  data: Uint8Array,
  w: number,
  h: number,
  channels: number,
  tw: number,
  th: number,
  filter: Resample,
): Uint8Array {
  if (channels === 3) return resizeRgbScalar({ width: w, height: h, data }, tw, th, filter).data;
  const out = new Uint8Array(tw * th * channels);
  for (let c = 0; c < channels; c++) {
    const plane = resizeRgbScalar(channelAsRgb(data, w, h, channels, c), tw, th, filter).data;
    for (let p = 0; p < tw * th; p++) out[p * channels + c] = plane[p * 3];
  }
  return out;
}

Deno.test("WebAssembly SIMD is available on this host, so the wasm path is what runs", () => {
  assert(wasmResamplingAvailable());
});

Deno.test("property: the wasm resampler gives the TypeScript resampler's bytes", () => {
  const side = fc.oneof(fc.integer({ min: 1, max: 48 }), fc.constant(1));
  fc.assert(
    fc.property(
      side,
      side,
      side,
      side,
      fc.constantFrom(1, 2, 3, 4),
      fc.constantFrom(...FILTERS),
      fc.integer(),
      (w, h, tw, th, channels, filter, seed) => {
        const data = noise(w, h, channels, seed);
        const actual = resizeWasm(data, w, h, channels, tw, th, filter);
        const expected = w === tw && h === th
          ? data
          : scalarReference(data, w, h, channels, tw, th, filter);
        assert.equal(firstDifference(actual, expected), -1);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: huge up- and down-scaling ratios and 1-pixel sides agree too", () => {
  fc.assert(
    fc.property(
      fc.constantFrom<[number, number, number, number]>(
        [3000, 2, 1, 1],
        [2, 3000, 2, 1],
        [1, 1, 700, 3],
        [1, 2, 900, 1],
        [1200, 1, 7, 5],
        [5, 900, 1, 1],
        [640, 3, 2048, 1],
      ),
      fc.boolean(),
      fc.constantFrom(1, 2, 3, 4),
      fc.constantFrom(...FILTERS),
      fc.integer(),
      ([w, h, tw, th], swap, channels, filter, seed) => {
        if (swap) [w, h, tw, th] = [h, w, th, tw];
        const data = noise(w, h, channels, seed);
        const actual = resizeWasm(data, w, h, channels, tw, th, filter);
        assert.equal(
          firstDifference(actual, scalarReference(data, w, h, channels, tw, th, filter)),
          -1,
        );
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("both paths reproduce every Pillow resize fixture byte for byte", async () => {
  for (const c of manifest.resize) {
    const source = await fixtureImage(c.source);
    const expected = await fixtureImage(c.expected);
    const wasm = resizeWasm(
      source.data,
      source.width,
      source.height,
      3,
      c.width,
      c.height,
      c.filter,
    );
    // resizeRgb returns a same-size image as it is; the scalar passes assume a change.
    const scalar = c.width === source.width && c.height === source.height
      ? source
      : resizeRgbScalar(source, c.width, c.height, c.filter);
    assert.equal(firstDifference(wasm, scalar.data), -1, `${c.id}: wasm and TypeScript differ`);
    assert.equal(firstDifference(wasm, expected.data), -1, `${c.id}: differs from Pillow`);
  }
});

Deno.test("with the wasm path off, resizeRgb falls back to TypeScript with the same bytes", () => {
  const image: RgbImage = { width: 97, height: 61, data: noise(97, 61, 3, 7) };
  const withWasm = resizeRgb(image, 40, 130, "lanczos");
  setWasmResampling(false);
  try {
    assert.equal(wasmResamplingAvailable(), false);
    assert.equal(resizeWasm(image.data, 97, 61, 3, 40, 130, "lanczos"), undefined);
    assert.deepEqual(resizeRgb(image, 40, 130, "lanczos"), withWasm);
  } finally {
    setWasmResampling(true);
  }
  assert(wasmResamplingAvailable());
});

Deno.test("a module that does not validate (a host without SIMD) yields no resampler", () => {
  // The wasm header followed by a truncated section: what validation rejects on such hosts.
  assert.equal(compileResampler(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5])), null);
});

Deno.test("a resize that outgrows the retained heap leaves the next one correct", () => {
  const big = { width: 3000, height: 2000, data: noise(3000, 2000, 3, 3) };
  // 3000x2000 -> 6000x2000: the band alone is 36 MB, more than the instance keeps.
  assert.equal(
    firstDifference(
      resizeRgb(big, 6000, 1999, "bilinear").data,
      resizeRgbScalar(big, 6000, 1999, "bilinear").data,
    ),
    -1,
  );
  const small = { width: 33, height: 17, data: noise(33, 17, 3, 5) };
  assert.deepEqual(resizeRgb(small, 9, 40, "bicubic"), resizeRgbScalar(small, 9, 40, "bicubic"));
});

const hasClang = await new Deno.Command("clang", { args: ["--version"], stdout: "null" }).output()
  .then((r) => r.success, () => false);

Deno.test({
  name: "the embedded binary is the build of tools/wasm/resample.c",
  ignore: !hasClang,
  async fn() {
    const script = new URL("../../tools/wasm/build_resample.ts", import.meta.url).pathname;
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-run", script, "--check"],
      stderr: "piped",
    }).output();
    assert(success, new TextDecoder().decode(stderr));
  },
});
