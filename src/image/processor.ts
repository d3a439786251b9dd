/**
 * Executes a tile plan on pixels: the Idefics3/SmolVLM processor (resize the
 * longest edge, cut T×T tiles row-major, append the global image) and the
 * MobileVLM one (pad to a mean-colour square, one view), then rescales and
 * normalises into the encoder's `pixel_values` layout. Geometry comes from
 * `planTiles`; nothing here decides a size.
 *
 * @module
 */
import type { ImageSpec } from "../spec/types.ts";
import { planTiles, type TilePlan } from "../tokens/tiles.ts";
import { createRgbImage, cropRgb, type RgbImage } from "./raster.ts";
import { resizeRgb } from "./resample.ts";

/** Tiles of one image, in the order their features enter the prompt. */
export interface ProcessedImage {
  /** The geometry that was executed. */
  plan: TilePlan;
  /** T×T tiles: grid crops row-major, then the global image; or a single view. */
  tiles: RgbImage[];
}

/** Options for {@linkcode tileImage}. */
export interface TileImageOptions {
  /** Override the spec's splitting switch. */
  split?: boolean;
  /** Most tiles the image may take (see `PlanTilesOptions.maxTiles`). */
  maxTiles?: number;
}

/**
 * Cuts one RGB image into encoder tiles following the Python processor:
 * Pillow-exact resampling at every resize, crops at multiples of T.
 */
export function tileImage(
  image: RgbImage,
  spec: ImageSpec,
  options: TileImageOptions = {},
): ProcessedImage {
  const plan = planTiles(image.width, image.height, spec, options);
  const T = spec.tileSize;
  if (spec.padToSquare) {
    const square = padToSquare(image, spec.mean);
    return { plan, tiles: [resizeRgb(square, T, T, spec.resample)] };
  }
  const stage1 = resizeRgb(image, plan.stage1.width, plan.stage1.height, spec.resample);
  if (plan.rows === 0) {
    return { plan, tiles: [resizeRgb(stage1, T, T, spec.resample)] };
  }
  const grid = resizeRgb(stage1, plan.resized.width, plan.resized.height, spec.resample);
  const tiles: RgbImage[] = [];
  for (let row = 0; row < plan.rows; row++) {
    for (let col = 0; col < plan.cols; col++) tiles.push(cropRgb(grid, col * T, row * T, T, T));
  }
  // The global image is the tile-multiple image shrunk to one tile.
  tiles.push(resizeRgb(grid, T, T, spec.resample));
  return { plan, tiles };
}

/**
 * MobileVLM's `expand2square`: centre the image on a square filled with the
 * normalisation mean as a colour (`int(mean·255)` per channel).
 */
export function padToSquare(image: RgbImage, mean: readonly number[]): RgbImage {
  const side = Math.max(image.width, image.height);
  if (image.width === image.height) return image;
  const out = createRgbImage(side, side);
  const fill = mean.map((m) => Math.trunc(m * 255));
  for (let i = 0; i < side * side; i++) out.data.set(fill, i * 3);
  const left = Math.floor((side - image.width) / 2);
  const top = Math.floor((side - image.height) / 2);
  const rowBytes = image.width * 3;
  for (let y = 0; y < image.height; y++) {
    out.data.set(
      image.data.subarray(y * rowBytes, (y + 1) * rowBytes),
      ((top + y) * side + left) * 3,
    );
  }
  return out;
}

/**
 * Normalises the tiles of several images, in order, into one planar float32
 * `[tiles, 3, T, T]` batch: what a single vision-encoder call takes.
 */
export function packTiles(
  images: readonly ProcessedImage[],
  spec: Pick<ImageSpec, "tileSize" | "rescaleFactor" | "mean" | "std">,
): { tiles: number; data: Float32Array } {
  const plane = 3 * spec.tileSize * spec.tileSize;
  const tiles = images.reduce((n, image) => n + image.tiles.length, 0);
  const data = new Float32Array(tiles * plane);
  let offset = 0;
  for (const image of images) {
    normalizeTiles(image.tiles, spec, data, offset);
    offset += image.tiles.length * plane;
  }
  return { tiles, data };
}

/**
 * Writes tiles as planar float32 `[tiles, 3, T, T]`:
 * `(pixel · rescaleFactor − mean) / std` per channel, into `out` at `offset` elements.
 */
export function normalizeTiles(
  tiles: readonly RgbImage[],
  spec: Pick<ImageSpec, "rescaleFactor" | "mean" | "std">,
  out: Float32Array,
  offset = 0,
): void {
  // One lookup table per channel: 256 values cover every input.
  const tables = [0, 1, 2].map((c) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) {
      table[v] = (Math.fround(v * spec.rescaleFactor) - spec.mean[c]) / spec.std[c];
    }
    return table;
  });
  let o = offset;
  for (const tile of tiles) {
    const plane = tile.width * tile.height;
    for (let c = 0; c < 3; c++) {
      const table = tables[c];
      const data = tile.data;
      for (let p = 0; p < plane; p++) out[o + p] = table[data[p * 3 + c]];
      o += plane;
    }
  }
}
