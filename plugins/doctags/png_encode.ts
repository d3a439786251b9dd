/**
 * RGB raster → PNG file bytes (8-bit, no alpha), for cropped pictures.
 *
 * @module
 */
import { encode } from "npm:fast-png@8.0.0";
import type { RgbImage } from "../../src/image/raster.ts";

/** Encodes an RGB image as a PNG file. */
export function encodeRgbPng(image: RgbImage): Uint8Array {
  return encode({
    width: image.width,
    height: image.height,
    data: image.data,
    channels: 3,
    depth: 8,
  });
}
