/**
 * JPEG → RGB, then the EXIF orientation applied. Decoding is libjpeg-turbo
 * compiled to WebAssembly (`jpeg_wasm.ts`), which gives Pillow's pixels exactly;
 * four-component (CMYK/YCCK) files, which libjpeg cannot turn into RGB, go to
 * jpeg-js (pure JS), whose CMYK conversion is within one grey level of Pillow's.
 *
 * @module
 */
import jpeg from "jpeg-js";
import { applyOrientation, readJpegOrientation } from "./exif_orientation.ts";
import { decodeJpegWasm } from "./jpeg_wasm.ts";
import type { RgbImage } from "./raster.ts";

/** Decodes JPEG bytes; `maxPixels` bounds jpeg-js's own allocation (CMYK only). */
export function decodeJpeg(bytes: Uint8Array, maxPixels: number): RgbImage {
  if (!hasEndOfImage(bytes)) throw new Error("the end-of-image marker is missing (truncated file)");
  const image = frameComponents(bytes) === 4 ? decodeCmyk(bytes, maxPixels) : decodeJpegWasm(bytes);
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

/** The component count of the first frame header (SOFn), or 0 if none is found. */
function frameComponents(bytes: Uint8Array): number {
  let offset = 2;
  while (offset + 4 <= bytes.length && bytes[offset] === 0xff) {
    const marker = bytes[offset + 1];
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
      marker !== 0xcc;
    if (isFrame) return offset + 9 < bytes.length ? bytes[offset + 9] : 0;
    offset += 2 + ((bytes[offset + 2] << 8) | bytes[offset + 3]);
  }
  return 0;
}

/** A complete JPEG ends with FF D9 (a few trailing bytes are tolerated). */
function hasEndOfImage(bytes: Uint8Array): boolean {
  const from = Math.max(0, bytes.length - 64);
  for (let i = bytes.length - 2; i >= from; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}
