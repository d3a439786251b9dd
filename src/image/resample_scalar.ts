/**
 * The two resampling passes in plain TypeScript, one pixel at a time: the
 * reference the WebAssembly passes are checked against, and the path taken
 * where WebAssembly SIMD is missing. Pillow's arithmetic: 22-bit weights,
 * a half added for round-half-up, horizontal pass first with an 8-bit
 * intermediate, then clip to 0..255.
 *
 * @module
 */
import type { Resample } from "../spec/types.ts";
import { createRgbImage, type RgbImage } from "./raster.ts";
import {
  type AxisCoefficients,
  axisCoefficients,
  PRECISION_BITS,
  rowsRead,
} from "./resample_coefficients.ts";

const HALF = 1 << (PRECISION_BITS - 1);
/** Smallest accumulator value that clips to 255 rather than overflowing 8 bits. */
const CLIP_HIGH = 256 * (1 << PRECISION_BITS);

function clip8(accumulator: number): number {
  if (accumulator >= CLIP_HIGH) return 255;
  if (accumulator <= 0) return 0;
  return accumulator >> PRECISION_BITS;
}

/** Horizontal pass over source rows `rowOffset .. rowOffset + rows`. */
function resampleRows(
  source: RgbImage,
  rowOffset: number,
  rows: number,
  outWidth: number,
  coeffs: AxisCoefficients,
): RgbImage {
  const out = createRgbImage(outWidth, rows);
  const { taps, bounds, weights } = coeffs;
  const src = source.data;
  const dst = out.data;
  for (let y = 0; y < rows; y++) {
    const rowStart = (y + rowOffset) * source.width * 3;
    for (let x = 0; x < outWidth; x++) {
      const first = bounds[x * 2];
      const count = bounds[x * 2 + 1];
      const k = x * taps;
      let r = HALF, g = HALF, b = HALF;
      let p = rowStart + first * 3;
      for (let t = 0; t < count; t++, p += 3) {
        const w = weights[k + t];
        r += src[p] * w;
        g += src[p + 1] * w;
        b += src[p + 2] * w;
      }
      const o = (y * outWidth + x) * 3;
      dst[o] = clip8(r);
      dst[o + 1] = clip8(g);
      dst[o + 2] = clip8(b);
    }
  }
  return out;
}

/** Vertical pass; `bounds` are relative to the first row of `source`. */
function resampleColumns(
  source: RgbImage,
  outHeight: number,
  coeffs: AxisCoefficients,
  rowOffset: number,
): RgbImage {
  const width = source.width;
  const out = createRgbImage(width, outHeight);
  const { taps, bounds, weights } = coeffs;
  const src = source.data;
  const dst = out.data;
  const stride = width * 3;
  for (let y = 0; y < outHeight; y++) {
    const first = bounds[y * 2] - rowOffset;
    const count = bounds[y * 2 + 1];
    const k = y * taps;
    for (let x = 0; x < width; x++) {
      let r = HALF, g = HALF, b = HALF;
      let p = first * stride + x * 3;
      for (let t = 0; t < count; t++, p += stride) {
        const w = weights[k + t];
        r += src[p] * w;
        g += src[p + 1] * w;
        b += src[p + 2] * w;
      }
      const o = (y * width + x) * 3;
      dst[o] = clip8(r);
      dst[o + 1] = clip8(g);
      dst[o + 2] = clip8(b);
    }
  }
  return out;
}

/**
 * Pillow's `Image.resize` on RGB in TypeScript; the caller has validated the
 * target and ruled out the same size.
 */
export function resizeRgbScalar(
  image: RgbImage,
  width: number,
  height: number,
  filter: Resample,
): RgbImage {
  const horizontal = axisCoefficients(image.width, width, filter);
  const vertical = axisCoefficients(image.height, height, filter);
  if (width === image.width) return resampleColumns(image, height, vertical, 0);
  if (height === image.height) return resampleRows(image, 0, image.height, width, horizontal);
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const rows = rowsRead(vertical);
  const band = resampleRows(image, rows.first, rows.end - rows.first, width, horizontal);
  return resampleColumns(band, height, vertical, rows.first);
}
