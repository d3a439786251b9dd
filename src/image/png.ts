/**
 * PNG → RGB with fast-png (pure JS): every colour type and bit depth,
 * palettes and tRNS transparency, alpha composited on white.
 *
 * @module
 */
import { decode as decodePngData } from "npm:fast-png@8.0.0";
import { overWhite } from "./composite.ts";
import { createRgbImage, type RgbImage } from "./raster.ts";

/** Decodes PNG bytes; malformed data throws (the caller wraps it in a typed error). */
export function decodePng(bytes: Uint8Array): RgbImage {
  const png = decodePngData(bytes, { checkCrc: true });
  const { width, height, channels, depth } = png;
  const out = createRgbImage(width, height);
  const dst = out.data;
  const pixels = width * height;
  const src = png.data;
  // 16-bit samples keep their high byte, as Pillow does for RGB(A).
  const shift = depth === 16 ? 8 : 0;

  if (png.palette) {
    const palette = png.palette;
    const bits = depth;
    // fast-png leaves indexed data packed at depths < 8.
    const perByte = 8 / bits;
    const rowBytes = Math.ceil(width / perByte);
    const mask = (1 << bits) - 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let index: number;
        if (bits === 8) index = src[y * width + x];
        else {
          const byte = src[y * rowBytes + Math.floor(x / perByte)];
          index = (byte >> (8 - bits * (1 + (x % perByte)))) & mask;
        }
        const entry = palette[index] ?? [0, 0, 0];
        const alpha = entry.length > 3 ? entry[3] : 255;
        const o = (y * width + x) * 3;
        dst[o] = overWhite(entry[0], alpha);
        dst[o + 1] = overWhite(entry[1], alpha);
        dst[o + 2] = overWhite(entry[2], alpha);
      }
    }
    return out;
  }

  const transparent = png.transparency;
  for (let i = 0; i < pixels; i++) {
    const s = i * channels;
    let r: number, g: number, b: number, alpha = 255;
    if (channels <= 2) {
      r = g = b = src[s] >> shift;
      if (channels === 2) alpha = src[s + 1] >> shift;
      else if (transparent && src[s] === transparent[0]) alpha = 0;
    } else {
      r = src[s] >> shift;
      g = src[s + 1] >> shift;
      b = src[s + 2] >> shift;
      if (channels === 4) alpha = src[s + 3] >> shift;
      else if (
        transparent && src[s] === transparent[0] && src[s + 1] === transparent[1] &&
        src[s + 2] === transparent[2]
      ) alpha = 0;
    }
    const o = i * 3;
    if (alpha === 255) {
      dst[o] = r;
      dst[o + 1] = g;
      dst[o + 2] = b;
    } else {
      dst[o] = overWhite(r, alpha);
      dst[o + 1] = overWhite(g, alpha);
      dst[o + 2] = overWhite(b, alpha);
    }
  }
  return out;
}
