/**
 * Separable resampling on 8-bit RGB that reproduces Pillow's `Image.resize`
 * (libImaging/Resample.c) bit for bit: the same filters and supports, the
 * same antialiasing (the kernel widens by the scale when downsampling), the
 * same 22-bit fixed-point coefficients, horizontal pass first with an 8-bit
 * intermediate, round-half-up and clipping. Python processors resize with
 * Pillow, so token-level parity with them starts here.
 *
 * The sums run in WebAssembly SIMD where the host has it
 * (`resample_wasm.ts`), else in TypeScript (`resample_scalar.ts`); both give
 * the same bytes.
 *
 * @module
 */
import type { Resample } from "../spec/types.ts";
import type { RgbImage } from "./raster.ts";
import { resizeRgbScalar } from "./resample_scalar.ts";
import { resizeWasm } from "./resample_wasm.ts";

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
  const data = resizeWasm(image.data, image.width, image.height, 3, width, height, filter);
  return data ? { width, height, data } : resizeRgbScalar(image, width, height, filter);
}
