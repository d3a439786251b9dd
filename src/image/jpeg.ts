/**
 * JPEG → RGB with jpeg-js (pure JS; baseline and progressive, greyscale and
 * YCbCr), then the EXIF orientation applied.
 *
 * @module
 */
import jpeg from "jpeg-js";
import { applyOrientation, readJpegOrientation } from "./exif_orientation.ts";
import type { RgbImage } from "./raster.ts";

/** Decodes JPEG bytes; `maxPixels` bounds the decoder's own allocation. */
export function decodeJpeg(bytes: Uint8Array, maxPixels: number): RgbImage {
  if (!hasEndOfImage(bytes)) throw new Error("the end-of-image marker is missing (truncated file)");
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: maxPixels / 1e6,
    // Decoder working memory: components at full resolution plus the output.
    maxMemoryUsageInMB: Math.ceil((maxPixels * 8) / (1024 * 1024)) + 64,
  });
  const image: RgbImage = { width: decoded.width, height: decoded.height, data: decoded.data };
  return applyOrientation(image, readJpegOrientation(bytes));
}

/** A complete JPEG ends with FF D9 (a few trailing bytes are tolerated). */
function hasEndOfImage(bytes: Uint8Array): boolean {
  const from = Math.max(0, bytes.length - 64);
  for (let i = bytes.length - 2; i >= from; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}
