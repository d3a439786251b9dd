/**
 * PNG → RGB: every colour type and bit depth, Adam7, palettes and tRNS
 * transparency, alpha composited on white. The chunk structure is validated
 * first (`png_chunks.ts`); the image data is then inflated in small slices
 * and unfiltered row by row straight into the RGB buffer, so memory is the
 * output (3 bytes a pixel) plus two rows, and inflating stops as soon as the
 * data holds more than the declared size needs. Missing rows are an error,
 * never padding.
 *
 * @module
 */
import { Unzlib } from "npm:fflate@0.8.3";
import { VlmError } from "../errors/vlm_error.ts";
import { overWhite } from "./composite.ts";
import { corruptPng, type PngStructure } from "./png_chunks.ts";
import { createRgbImage, type RgbImage } from "./raster.ts";

/** Compressed bytes inflated per step: deflate expands at most ~1032×, so ≤ ~2 MB at once. */
const SLICE_BYTES = 2048;

/** The most deflate can expand: 258-byte matches coded in ~2 bits, plus block overhead. */
const MAX_DEFLATE_RATIO = 1033;

/** Adam7 passes: first column and row, then column and row steps. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  /** Pixels per row and rows of this pass (both > 0). */
  width: number;
  height: number;
  /** Bytes per row without the filter byte. */
  rowBytes: number;
}

function passesOf(png: PngStructure): Pass[] {
  const bits = png.channels * png.depth;
  const layout = png.interlaced ? ADAM7 : [[0, 0, 1, 1] as const];
  return layout
    .map(([x0, y0, dx, dy]) => {
      const width = Math.max(0, Math.ceil((png.width - x0) / dx));
      const height = Math.max(0, Math.ceil((png.height - y0) / dy));
      return { x0, y0, dx, dy, width, height, rowBytes: Math.ceil((width * bits) / 8) };
    })
    .filter((pass) => pass.width > 0 && pass.height > 0);
}

/** Bytes the inflated image data must hold exactly: every row and its filter byte. */
export function inflatedSize(png: PngStructure): number {
  return passesOf(png).reduce((n, pass) => n + pass.height * (1 + pass.rowBytes), 0);
}

/**
 * Decodes a validated PNG (see `readPngStructure`); the caller has checked
 * the pixel limit. Throws `image_invalid` for data that is short, too long,
 * not zlib, or uses an unknown row filter.
 */
export function decodePng(png: PngStructure): RgbImage {
  const passes = passesOf(png);
  const expected = inflatedSize(png);
  // Deflate expands at most 1032:1: less compressed data cannot hold the image, so it is
  // refused before the output is allocated.
  if (png.dataBytes * MAX_DEFLATE_RATIO < expected) {
    throw corruptPng(
      `${png.dataBytes} bytes of image data cannot inflate to the ${expected} bytes a ${png.width}x${png.height} image needs`,
    );
  }
  const out = createRgbImage(png.width, png.height);
  const maxRow = Math.max(...passes.map((p) => p.rowBytes));
  let current = new Uint8Array(1 + maxRow);
  let previous = new Uint8Array(1 + maxRow);
  const bpp = Math.max(1, (png.channels * png.depth) >> 3);
  const writeRow = rowWriter(png, out.data);
  let passIndex = 0;
  let pass = passes[0];
  let row = 0; // row within the pass
  let filled = 0; // bytes of `current` received, filter byte included
  let received = 0;

  const onData = (chunk: Uint8Array) => {
    let at = 0;
    while (at < chunk.length) {
      if (passIndex === passes.length) {
        throw corruptPng(
          `the image data inflates to more than the ${expected} bytes a ${png.width}x${png.height} image needs`,
        );
      }
      const need = 1 + pass.rowBytes - filled;
      const take = Math.min(need, chunk.length - at);
      current.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      received += take;
      if (filled < 1 + pass.rowBytes) continue;
      unfilter(current, previous, pass.rowBytes, bpp, row === 0);
      writeRow(current, pass, row);
      [current, previous] = [previous, current];
      filled = 0;
      if (++row === pass.height) {
        row = 0;
        pass = passes[++passIndex];
      }
    }
  };

  const inflater = new Unzlib(onData);
  try {
    for (const data of png.data) {
      for (let at = 0; at < data.length; at += SLICE_BYTES) {
        inflater.push(data.subarray(at, at + SLICE_BYTES), false);
      }
    }
    inflater.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof VlmError) throw error;
    // A damaged zlib trailer after complete image data is tolerated, as Pillow does.
    if (passIndex < passes.length) {
      throw corruptPng(
        `the image data is not a valid zlib stream (${
          (error as Error).message
        }) after ${received} of ${expected} bytes`,
      );
    }
  }
  if (passIndex < passes.length) {
    throw corruptPng(
      `the image data ends after ${received} of the ${expected} bytes a ${png.width}x${png.height} image needs`,
    );
  }
  return out;
}

/** Undoes the row filter in place (`row[0]` is the filter type, samples follow). */
function unfilter(
  row: Uint8Array,
  above: Uint8Array,
  length: number,
  bpp: number,
  first: boolean,
): void {
  const type = row[0];
  if (type === 0) return;
  const end = length + 1;
  if (type === 1) {
    for (let i = 1 + bpp; i < end; i++) row[i] += row[i - bpp];
  } else if (type === 2) {
    if (first) return;
    for (let i = 1; i < end; i++) row[i] += above[i];
  } else if (type === 3) {
    for (let i = 1; i < end; i++) {
      const left = i > bpp ? row[i - bpp] : 0;
      row[i] += (left + (first ? 0 : above[i])) >> 1;
    }
  } else if (type === 4) {
    for (let i = 1; i < end; i++) {
      const a = i > bpp ? row[i - bpp] : 0;
      const b = first ? 0 : above[i];
      const c = first || i <= bpp ? 0 : above[i - bpp];
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      row[i] += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
  } else {
    throw corruptPng(`row filter type ${type} does not exist`);
  }
}

type RowWriter = (row: Uint8Array, pass: Pass, y: number) => void;

/** Converts one unfiltered row (filter byte at 0) of a pass into RGB pixels of `dst`. */
function rowWriter(png: PngStructure, dst: Uint8Array): RowWriter {
  const { width, depth, colorType, channels } = png;
  const trns = png.transparency;
  // 16-bit samples keep their high byte, as Pillow does for RGB(A).
  const step = depth === 16 ? 2 : 1;
  const put = (o: number, r: number, g: number, b: number, alpha: number) =>
    putOverWhite(dst, o, r, g, b, alpha);
  if (depth < 8) {
    // Packed samples: palette indices or grey levels (scaled to 0–255 as Pillow does).
    const mask = (1 << depth) - 1;
    const scale = 255 / mask;
    const palette = png.palette;
    const grey = trns && colorType === 0 ? (trns[0] << 8) | trns[1] : -1;
    return (row, pass, y) => {
      const base = (pass.y0 + y * pass.dy) * width;
      for (let j = 0; j < pass.width; j++) {
        const bit = j * depth;
        const v = (row[1 + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
        const o = (base + pass.x0 + j * pass.dx) * 3;
        if (colorType === 3) paletteEntry(palette!, trns, v, dst, o);
        else {
          const level = v * scale;
          put(o, level, level, level, v === grey ? 0 : 255);
        }
      }
    };
  }
  const trnsValue = (i: number) => trns ? (trns[2 * i] << 8) | trns[2 * i + 1] : -1;
  const [tr, tg, tb] = [trnsValue(0), trnsValue(1), trnsValue(2)];
  const full = (row: Uint8Array, s: number) => depth === 16 ? (row[s] << 8) | row[s + 1] : row[s];
  return (row, pass, y) => {
    const base = (pass.y0 + y * pass.dy) * width;
    for (let j = 0; j < pass.width; j++) {
      const s = 1 + j * channels * step;
      const o = (base + pass.x0 + j * pass.dx) * 3;
      switch (colorType) {
        case 3:
          paletteEntry(png.palette!, trns, row[s], dst, o);
          break;
        case 0: {
          const v = row[s];
          put(o, v, v, v, full(row, s) === tr ? 0 : 255);
          break;
        }
        case 4: {
          const v = row[s];
          put(o, v, v, v, row[s + step]);
          break;
        }
        case 2: {
          const transparent = trns !== undefined && full(row, s) === tr &&
            full(row, s + step) === tg && full(row, s + 2 * step) === tb;
          put(o, row[s], row[s + step], row[s + 2 * step], transparent ? 0 : 255);
          break;
        }
        default:
          put(o, row[s], row[s + step], row[s + 2 * step], row[s + 3 * step]);
      }
    }
  };
}

/** A palette entry (black beyond the palette) composited on white with its tRNS alpha. */
function paletteEntry(
  palette: Uint8Array,
  trns: Uint8Array | undefined,
  index: number,
  dst: Uint8Array,
  o: number,
): void {
  const inside = index * 3 < palette.length;
  const r = inside ? palette[index * 3] : 0;
  const g = inside ? palette[index * 3 + 1] : 0;
  const b = inside ? palette[index * 3 + 2] : 0;
  putOverWhite(dst, o, r, g, b, trns && index < trns.length ? trns[index] : 255);
}

/** Writes one RGB pixel at `o`, composited on white when `alpha` is below 255. */
function putOverWhite(
  dst: Uint8Array,
  o: number,
  r: number,
  g: number,
  b: number,
  alpha: number,
): void {
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
