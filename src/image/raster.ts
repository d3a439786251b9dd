/**
 * The in-memory picture every image step works on: 8-bit RGB, row-major,
 * interleaved (HWC). Decoders produce it, the resampler and the tiler consume it.
 *
 * @module
 */

/** An 8-bit RGB image, `data.length === width * height * 3`. */
export interface RgbImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Interleaved R, G, B bytes, row-major. */
  readonly data: Uint8Array;
}

/** Allocates a black RGB image. */
export function createRgbImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

/** Copies the `width`×`height` rectangle at (`left`, `top`) out of `image`. */
export function cropRgb(
  image: RgbImage,
  left: number,
  top: number,
  width: number,
  height: number,
): RgbImage {
  if (left < 0 || top < 0 || left + width > image.width || top + height > image.height) {
    throw new RangeError(
      `crop ${width}x${height}+${left}+${top} is outside the ${image.width}x${image.height} image`,
    );
  }
  const out = createRgbImage(width, height);
  const rowBytes = width * 3;
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    out.data.set(image.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return out;
}
