/**
 * `encodePng`: an RGB raster as a PNG file (8-bit truecolour, no filter,
 * deflate at a chosen effort), with fflate's zlib, which the PNG decoder
 * already ships. Rendered PDF pages travel to the model as PNG bytes, and
 * picture crops are written as PNG files.
 *
 * @module
 */
import { zlibSync } from "npm:fflate@0.8.3";
import type { RgbImage } from "./raster.ts";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes `image` as PNG. `level` is deflate's effort, 1 (fast, default) to 9. */
export function encodePng(
  image: RgbImage,
  level: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 = 1,
): Uint8Array {
  const { width, height, data } = image;
  const row = width * 3;
  // Each scanline starts with its filter type byte (0: none).
  const raw = new Uint8Array((row + 1) * height);
  for (let y = 0; y < height; y++) {
    raw.set(data.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", zlibSync(raw, { level })),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
