/**
 * Bytes → upright RGB, with every refusal decided before pixels are allocated:
 * the signature names the format, the validated structure the size, the
 * pixel limit is checked, and only then does a decoder run.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { decodeJpeg } from "./jpeg.ts";
import { type JpegStructure, readJpegStructure } from "./jpeg_structure.ts";
import { decodePng } from "./png.ts";
import { type PngStructure, readPngStructure } from "./png_chunks.ts";
import type { RgbImage } from "./raster.ts";
import { readImageFormat } from "./sniff.ts";

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
 *
 * The file's structure is validated first (one pass over the bytes) and the
 * pixel limit is checked against the size the decoder will use; decoding
 * work and memory are then bounded by that pixel count.
 */
export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): RgbImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const format = readImageFormat(bytes);
  const structure = format === "png" ? readPngStructure(bytes) : readJpegStructure(bytes);
  checkPixels(format, structure.width, structure.height, maxPixels);
  try {
    return format === "png"
      ? decodePng(structure as PngStructure)
      : decodeJpeg(bytes, structure as JpegStructure, maxPixels);
  } catch (error) {
    if (error instanceof VlmError) throw error; // e.g. the JPEG decoder could not be loaded
    throw new VlmError(
      "image_invalid",
      `the ${format.toUpperCase()} image is corrupt or truncated: ${
        error instanceof Error ? error.message : String(error)
      }`,
      {
        fix: "re-export or re-download the file; it does not decode as a complete image",
        cause: error,
      },
    );
  }
}

/** Refuses an empty size or one over the limit, before anything is allocated. */
function checkPixels(format: string, width: number, height: number, maxPixels: number): void {
  const pixels = width * height;
  if (width === 0 || height === 0) {
    throw new VlmError(
      "image_invalid",
      `the ${format.toUpperCase()} header declares a ${width}x${height} image`,
      { fix: "the file is damaged; re-export it" },
    );
  }
  if (pixels > maxPixels) {
    throw new VlmError(
      "image_too_large",
      `the image is ${width}x${height} = ${(pixels / 1e6).toFixed(1)} MP, over the ${
        (maxPixels / 1e6).toFixed(1)
      } MP limit`,
      { fix: "downscale the image first, or raise the limit with the maxPixels option" },
    );
  }
}
