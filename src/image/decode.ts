/**
 * Bytes → upright RGB, with every refusal decided before pixels are allocated:
 * the header names the format and the size, the pixel limit is checked, and
 * only then does a decoder run.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { decodeJpeg } from "./jpeg.ts";
import { decodePng } from "./png.ts";
import type { RgbImage } from "./raster.ts";
import { readImageHeader } from "./sniff.ts";

/** Default pixel limit: 50 megapixels. */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/** Options for {@linkcode decodeImage}. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this (default {@linkcode DEFAULT_MAX_PIXELS}). */
  maxPixels?: number;
}

/**
 * Decodes a PNG or JPEG into 8-bit RGB: EXIF orientation applied, alpha
 * composited on white, greyscale replicated. Throws `VlmError` with code
 * `image_unsupported`, `image_too_large` or `image_invalid`.
 */
export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): RgbImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = readImageHeader(bytes);
  const pixels = header.width * header.height;
  if (header.width === 0 || header.height === 0) {
    throw new VlmError(
      "image_invalid",
      `the ${header.format.toUpperCase()} header declares a ${header.width}x${header.height} image`,
      { fix: "the file is damaged; re-export it" },
    );
  }
  if (pixels > maxPixels) {
    throw new VlmError(
      "image_too_large",
      `the image is ${header.width}x${header.height} = ${(pixels / 1e6).toFixed(1)} MP, over the ${
        (maxPixels / 1e6).toFixed(1)
      } MP limit`,
      { fix: "downscale the image first, or raise the limit with the maxPixels option" },
    );
  }
  try {
    return header.format === "png" ? decodePng(bytes) : decodeJpeg(bytes, maxPixels);
  } catch (error) {
    if (error instanceof VlmError) throw error; // e.g. the JPEG decoder could not be loaded
    throw new VlmError(
      "image_invalid",
      `the ${header.format.toUpperCase()} image is corrupt or truncated: ${
        error instanceof Error ? error.message : String(error)
      }`,
      {
        fix: "re-export or re-download the file; it does not decode as a complete image",
        cause: error,
      },
    );
  }
}
