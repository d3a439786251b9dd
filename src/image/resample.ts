/**
 * Separable resampling on 8-bit RGB that reproduces Pillow's `Image.resize`
 * (libImaging/Resample.c) bit for bit: the same filters and supports, the
 * same antialiasing (the kernel widens by the scale when downsampling), the
 * same 22-bit fixed-point coefficients, horizontal pass first with an 8-bit
 * intermediate, round-half-up and clipping. Python processors resize with
 * Pillow, so token-level parity with them starts here.
 *
 * @module
 */
import type { Resample } from "../spec/types.ts";
import { createRgbImage, type RgbImage } from "./raster.ts";

/** Fixed-point precision of the coefficients (Pillow: 32 - 8 - 2). */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);
/** Largest accumulator value that still clips to 255 rather than overflowing 8 bits. */
const CLIP_HIGH = 256 * ONE;

interface ResampleFilter {
  /** Half-width of the kernel at scale 1. */
  support: number;
  weight(x: number): number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const FILTERS: Readonly<Record<Resample, ResampleFilter>> = {
  bilinear: {
    support: 1,
    weight(x) {
      const ax = Math.abs(x);
      return ax < 1 ? 1 - ax : 0;
    },
  },
  bicubic: {
    // Keys cubic with a = -0.5, as Pillow.
    support: 2,
    weight(x) {
      const a = -0.5;
      const ax = Math.abs(x);
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
  lanczos: {
    // Truncated sinc, three lobes.
    support: 3,
    weight(x) {
      return -3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0;
    },
  },
};

/** Per-output-pixel source window and fixed-point weights along one axis. */
interface AxisCoefficients {
  /** Maximum taps per output pixel (row stride of `weights`). */
  taps: number;
  /** First source index of output i at `2i`, tap count at `2i + 1`. */
  bounds: Int32Array;
  /** `taps` fixed-point weights per output pixel. */
  weights: Int32Array;
}

function axisCoefficients(
  inSize: number,
  outSize: number,
  filter: ResampleFilter,
): AxisCoefficients {
  const scale = inSize / outSize;
  // Downsampling stretches the kernel: this is Pillow's antialiasing.
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * taps);
  const real = new Float64Array(taps);
  const invFilterScale = 1 / filterScale;
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    // C's (int) cast truncates toward zero; both values are ≥ -0.5 + 0.5 here.
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const last = Math.min(Math.trunc(center + support + 0.5), inSize);
    const count = last - first;
    let sum = 0;
    for (let t = 0; t < count; t++) {
      const w = filter.weight((t + first - center + 0.5) * invFilterScale);
      real[t] = w;
      sum += w;
    }
    for (let t = 0; t < taps; t++) {
      const w = t >= count ? 0 : sum !== 0 ? real[t] / sum : real[t];
      // Round half away from zero, then truncate, as Pillow's normalize_coeffs_8bpc.
      weights[i * taps + t] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    bounds[i * 2] = first;
    bounds[i * 2 + 1] = count;
  }
  return { taps, bounds, weights };
}

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
 * Resizes `image` to `width`×`height` exactly as Pillow's
 * `Image.resize((width, height), resample=filter)` on an RGB image.
 * Returns the input unchanged when the size already matches (Pillow copies).
 */
export function resizeRgb(
  image: RgbImage,
  width: number,
  height: number,
  filter: Resample,
): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
  if (width === image.width && height === image.height) return image;
  const kernel = FILTERS[filter];
  const horizontal = axisCoefficients(image.width, width, kernel);
  const vertical = axisCoefficients(image.height, height, kernel);
  const needHorizontal = width !== image.width;
  const needVertical = height !== image.height;

  if (!needHorizontal) return resampleColumns(image, height, vertical, 0);
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const firstRow = vertical.bounds[0];
  const lastRow = vertical.bounds[height * 2 - 2] + vertical.bounds[height * 2 - 1];
  if (!needVertical) return resampleRows(image, 0, image.height, width, horizontal);
  const band = resampleRows(image, firstRow, lastRow - firstRow, width, horizontal);
  return resampleColumns(band, height, vertical, firstRow);
}
