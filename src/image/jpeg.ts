/**
 * JPEG → RGB, then the EXIF orientation applied. Decoding is libjpeg-turbo
 * compiled to WebAssembly (`jpeg_wasm.ts`), which gives Pillow's pixels exactly;
 * four-component (CMYK/YCCK) files, which libjpeg cannot turn into RGB, go to
 * jpeg-js (pure JS), whose CMYK conversion is within one grey level of Pillow's.
 *
 * @module
 */
import jpeg from "npm:jpeg-js@0.4.4";
import { applyOrientation, readJpegOrientation } from "./exif_orientation.ts";
import { decodeJpegWasm } from "./jpeg_wasm.ts";
import type { RgbImage } from "./raster.ts";
import { readJpegFrame } from "./sniff.ts";

/** Decodes JPEG bytes; `maxPixels` bounds jpeg-js's own allocation (CMYK only). */
export function decodeJpeg(bytes: Uint8Array, maxPixels: number): RgbImage {
  if (!hasEndOfImage(bytes)) throw new Error("the end-of-image marker is missing (truncated file)");
  const image = readJpegFrame(bytes).components === 4
    ? decodeCmyk(bytes, maxPixels)
    : decodeJpegWasm(bytes);
  return applyOrientation(image, readJpegOrientation(bytes));
}

function decodeCmyk(bytes: Uint8Array, maxPixels: number): RgbImage {
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: maxPixels / 1e6,
    // Decoder working memory: components at full resolution plus the output.
    maxMemoryUsageInMB: Math.ceil((maxPixels * 8) / (1024 * 1024)) + 64,
  });
  return { width: decoded.width, height: decoded.height, data: decoded.data };
}

/** A complete JPEG ends with FF D9 (a few trailing bytes are tolerated). */
function hasEndOfImage(bytes: Uint8Array): boolean {
  const from = Math.max(0, bytes.length - 64);
  for (let i = bytes.length - 2; i >= from; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}
