/**
 * JPEG → RGB, then the EXIF orientation applied. Decoding is libjpeg-turbo
 * compiled to WebAssembly (`jpeg_wasm.ts`), which gives Pillow's pixels exactly;
 * four-component (CMYK/YCCK) files, which libjpeg cannot turn into RGB, go to
 * jpeg-js (pure JS), whose CMYK conversion is within one grey level of Pillow's.
 * Both run only on a structure `readJpegStructure` accepted, and only when
 * the scans hold enough data for the declared size.
 *
 * @module
 */
import jpeg from "npm:jpeg-js@0.4.4";
import { applyOrientation, readJpegOrientation } from "./exif_orientation.ts";
import { corruptJpeg, type JpegStructure } from "./jpeg_structure.ts";
import { decodeJpegWasm } from "./jpeg_wasm.ts";
import type { RgbImage } from "./raster.ts";

/**
 * Decodes JPEG bytes whose structure was validated (the caller checked the
 * pixel limit against it); `maxPixels` also bounds jpeg-js's own allocation.
 */
export function decodeJpeg(bytes: Uint8Array, frame: JpegStructure, maxPixels: number): RgbImage {
  if (frame.entropyBytes < frame.minEntropyBytes) {
    throw corruptJpeg(
      `the scans hold ${frame.entropyBytes} bytes, fewer than the ${frame.minEntropyBytes} a ${frame.width}x${frame.height} image needs (truncated or rewritten header)`,
    );
  }
  const image = frame.components === 4 ? decodeCmyk(bytes, maxPixels) : decodeJpegWasm(bytes);
  // Both decoders read the one frame header the structure check saw; a size that differs
  // from it would mean they parsed something else.
  if (image.width !== frame.width || image.height !== frame.height) {
    throw corruptJpeg(
      `decoded ${image.width}x${image.height}, but the frame header says ${frame.width}x${frame.height}`,
    );
  }
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
