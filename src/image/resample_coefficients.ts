/**
 * Pillow's resampling filters and its per-output coefficient windows
 * (libImaging/Resample.c, `precompute_coeffs` and `normalize_coeffs_8bpc`):
 * the float kernel, the antialiasing stretch when downsampling, and the
 * 22-bit fixed-point weights. Both resampling passes (the TypeScript one and
 * the WebAssembly one) sum with these exact integers.
 *
 * @module
 */
import type { Resample } from "../spec/types.ts";

/** Fixed-point precision of the coefficients (Pillow: 32 - 8 - 2). */
export const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;

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
export interface AxisCoefficients {
  /** Maximum taps per output pixel (row stride of `weights`). */
  taps: number;
  /** First source index of output i at `2i`, tap count at `2i + 1`. */
  bounds: Int32Array;
  /** `taps` fixed-point weights per output pixel. */
  weights: Int32Array;
}

/** The coefficient windows that resample `inSize` samples to `outSize` with `filter`. */
export function axisCoefficients(
  inSize: number,
  outSize: number,
  filter: Resample,
): AxisCoefficients {
  const kernel = FILTERS[filter];
  const scale = inSize / outSize;
  // Downsampling stretches the kernel: this is Pillow's antialiasing.
  const filterScale = Math.max(scale, 1);
  const support = kernel.support * filterScale;
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
      const w = kernel.weight((t + first - center + 0.5) * invFilterScale);
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

/** Source rows `[first, end)` that the vertical pass of `vertical` reads. */
export function rowsRead(vertical: AxisCoefficients): { first: number; end: number } {
  const n = vertical.bounds.length;
  return { first: vertical.bounds[0], end: vertical.bounds[n - 2] + vertical.bounds[n - 1] };
}
