/**
 * EXIF orientation: read tag 0x0112 from a JPEG's APP1 segment and apply it,
 * with the same eight transforms as Pillow's `ImageOps.exif_transpose`, so a
 * phone photo reaches the model upright.
 *
 * @module
 */
import { createRgbImage, type RgbImage } from "./raster.ts";

/** EXIF orientation values 1–8 (1 = upright). */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

const ORIENTATION_TAG = 0x0112;

/** Returns the orientation tag of a JPEG, or 1 when absent or unreadable. */
export function readJpegOrientation(bytes: Uint8Array): Orientation {
  let offset = 2;
  while (offset + 4 <= bytes.length && bytes[offset] === 0xff) {
    const marker = bytes[offset + 1];
    // Metadata precedes the first scan; stop there.
    if (marker === 0xda || marker === 0xd9) break;
    const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (marker === 0xe1 && length >= 8) {
      const value = orientationFromApp1(bytes.subarray(offset + 4, offset + 2 + length));
      if (value !== undefined) return value;
    }
    offset += 2 + length;
  }
  return 1;
}

function orientationFromApp1(segment: Uint8Array): Orientation | undefined {
  // "Exif\0\0" then a TIFF header.
  if (segment.length < 14 || String.fromCharCode(...segment.subarray(0, 4)) !== "Exif") {
    return undefined;
  }
  const tiff = segment.subarray(6);
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined;
  const little = order === 0x4949;
  const ifd0 = view.getUint32(4, little);
  if (ifd0 + 2 > tiff.length) return undefined;
  const entries = view.getUint16(ifd0, little);
  for (let i = 0; i < entries; i++) {
    const entry = ifd0 + 2 + i * 12;
    if (entry + 12 > tiff.length) return undefined;
    if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value as Orientation : undefined;
  }
  return undefined;
}

/**
 * Applies an EXIF orientation. Each case names Pillow's equivalent transpose;
 * 5–8 swap width and height.
 */
export function applyOrientation(image: RgbImage, orientation: Orientation): RgbImage {
  if (orientation === 1) return image;
  const { width: w, height: h } = image;
  const swaps = orientation >= 5;
  const out = createRgbImage(swaps ? h : w, swaps ? w : h);
  // Maps an output pixel to the source pixel it comes from.
  const source: (x: number, y: number) => [number, number] = {
    2: (x: number, y: number): [number, number] => [w - 1 - x, y], // FLIP_LEFT_RIGHT
    3: (x: number, y: number): [number, number] => [w - 1 - x, h - 1 - y], // ROTATE_180
    4: (x: number, y: number): [number, number] => [x, h - 1 - y], // FLIP_TOP_BOTTOM
    5: (x: number, y: number): [number, number] => [y, x], // TRANSPOSE
    6: (x: number, y: number): [number, number] => [y, h - 1 - x], // ROTATE_270
    7: (x: number, y: number): [number, number] => [w - 1 - y, h - 1 - x], // TRANSVERSE
    8: (x: number, y: number): [number, number] => [w - 1 - y, x], // ROTATE_90
  }[orientation];
  const src = image.data;
  const dst = out.data;
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const [sx, sy] = source(x, y);
      const from = (sy * w + sx) * 3;
      const to = (y * out.width + x) * 3;
      dst[to] = src[from];
      dst[to + 1] = src[from + 1];
      dst[to + 2] = src[from + 2];
    }
  }
  return out;
}
