/**
 * The tile plan of one image, following the Python Idefics3/SmolVLM image
 * processor exactly (integer truncation, odd→even rounding, the 4096 cap), so
 * that token counts agree with the reference implementation for every size.
 *
 * Only geometry lives here; `src/image/` executes the plan on pixels.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { ImageSpec } from "../spec/types.ts";

/** Largest side the Python processor allows after the first resize. */
export const MAX_IMAGE_SIDE = 4096;

/** A width × height pair in pixels. */
export interface Size {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** Image settings the tile planner reads. */
export type TileSettings = Pick<
  ImageSpec,
  "longestEdge" | "tileSize" | "splitting" | "padToSquare"
>;

/** How one image is cut into tiles. */
export interface TilePlan {
  /** Original width. */
  width: number;
  /** Original height. */
  height: number;
  /** Whether splitting was applied. */
  split: boolean;
  /** Size after the first resize (longest edge → `longestEdge`), or the padded square for pad-to-square models. */
  stage1: Size;
  /** The size that is cut into tiles: a multiple of the tile when split into a grid, otherwise T×T. */
  resized: Size;
  /** Grid rows (0 when the image is a single tile). */
  rows: number;
  /** Grid columns (0 when the image is a single tile). */
  cols: number;
  /** Tiles fed to the encoder: rows·cols crops plus one global image, or 1. */
  tiles: number;
}

/** Python's `int()` on a non-negative float. */
const trunc = Math.trunc;

function assertDimension(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new VlmError("input_invalid", `image ${name} must be a positive integer, got ${value}`, {
      fix: "pass the image size in pixels, e.g. 640x480",
    });
  }
}

/**
 * Stage 1: scale so the longest side equals `longestEdge` (small images are
 * upscaled), truncating the short side and rounding it up to even; then cap
 * both sides at {@linkcode MAX_IMAGE_SIDE}.
 */
export function resizeToLongestEdge(width: number, height: number, longestEdge: number): Size {
  let w = width;
  let h = height;
  const aspect = w / h;
  if (w >= h) {
    w = longestEdge;
    h = trunc(w / aspect);
    if (h % 2 !== 0) h += 1;
  } else {
    h = longestEdge;
    w = trunc(h * aspect);
    if (w % 2 !== 0) w += 1;
  }
  h = Math.max(h, 1);
  w = Math.max(w, 1);
  // Cap below the processor's upper bound, with the aspect of the rounded size.
  const cappedAspect = w / h;
  if (w >= h && w > MAX_IMAGE_SIDE) {
    w = MAX_IMAGE_SIDE;
    h = trunc(w / cappedAspect);
  } else if (h > w && h > MAX_IMAGE_SIDE) {
    h = MAX_IMAGE_SIDE;
    w = trunc(h * cappedAspect);
  }
  return { width: Math.max(w, 1), height: Math.max(h, 1) };
}

/**
 * Stage 2 (splitting only): round the long side up to a multiple of the tile,
 * derive the short side from the aspect, and round it up to a multiple too.
 */
export function resizeToTileMultiple(size: Size, tileSize: number): Size {
  const aspect = size.width / size.height;
  if (size.width >= size.height) {
    const width = Math.ceil(size.width / tileSize) * tileSize;
    const height = Math.ceil(trunc(width / aspect) / tileSize) * tileSize;
    return { width, height };
  }
  const height = Math.ceil(size.height / tileSize) * tileSize;
  const width = Math.ceil(trunc(height * aspect) / tileSize) * tileSize;
  return { width, height };
}

/** Options for {@linkcode planTiles}. */
export interface PlanTilesOptions {
  /** Override the spec's splitting switch (e.g. `--no-split`). */
  split?: boolean;
  /**
   * Most tiles one image may take (default: no limit). A split image over it
   * is planned at a smaller longest edge (the largest multiple of the tile
   * whose grid plus the global image fits), as the Python processor does with
   * `size={"longest_edge": N}`; at one tile side it is unsplit.
   */
  maxTiles?: number;
}

/**
 * Plans the tiles of one `width`×`height` image.
 *
 * Example (SmolVLM-256M: longest edge 2048, tile 512): 640×480 → 2048×1536 →
 * 3 rows × 4 cols + global = 13 tiles; 2048×100 → 1×4 + 1 = 5; unsplit → 1.
 */
export function planTiles(
  width: number,
  height: number,
  settings: TileSettings,
  options: PlanTilesOptions = {},
): TilePlan {
  const full = planUncapped(width, height, settings, options.split);
  const cap = options.maxTiles ?? Infinity;
  if (full.tiles <= cap) return full;
  if (!(cap >= 1)) {
    throw new VlmError("input_invalid", `maxTiles must be at least 1, got ${cap}`, {
      fix: "pass maxTiles ≥ 1 (1 = unsplit), or leave it unset for no limit",
    });
  }
  // Shrink the longest edge a tile at a time: fewer grid cells, same aspect.
  const tile = settings.tileSize;
  for (let edge = Math.ceil(settings.longestEdge / tile) * tile - tile; edge > tile; edge -= tile) {
    const plan = planUncapped(width, height, { ...settings, longestEdge: edge }, options.split);
    if (plan.tiles <= cap) return plan;
  }
  return planUncapped(width, height, settings, false);
}

function planUncapped(
  width: number,
  height: number,
  settings: TileSettings,
  splitOption: boolean | undefined,
): TilePlan {
  const options = { split: splitOption };
  assertDimension("width", width);
  assertDimension("height", height);
  const tile = settings.tileSize;
  const square: Size = { width: tile, height: tile };
  const split = (options.split ?? settings.splitting) && !settings.padToSquare;

  if (settings.padToSquare) {
    // MobileVLM: pad to a mean-colour square, then one T×T view.
    const side = Math.max(width, height);
    return {
      width,
      height,
      split: false,
      stage1: { width: side, height: side },
      resized: square,
      rows: 0,
      cols: 0,
      tiles: 1,
    };
  }

  const stage1 = resizeToLongestEdge(width, height, settings.longestEdge);
  if (!split) {
    return { width, height, split, stage1, resized: square, rows: 0, cols: 0, tiles: 1 };
  }
  const grid = resizeToTileMultiple(stage1, tile);
  if (grid.height > tile || grid.width > tile) {
    const rows = Math.floor((grid.height - tile) / tile) + 1;
    const cols = Math.floor((grid.width - tile) / tile) + 1;
    return { width, height, split, stage1, resized: grid, rows, cols, tiles: rows * cols + 1 };
  }
  return { width, height, split, stage1, resized: square, rows: 0, cols: 0, tiles: 1 };
}

/**
 * Largest grid side a spec can produce: ceil(L' / tile) with L' = min(longestEdge, 4096)
 * rounded up to even, because a square image with an odd longest edge gets its
 * "short" side rounded up to L + 1 in stage 1.
 */
export function maxGridSide(settings: Pick<ImageSpec, "longestEdge" | "tileSize">): number {
  const longest = Math.min(settings.longestEdge, MAX_IMAGE_SIDE);
  return Math.ceil((longest + (longest % 2)) / settings.tileSize);
}

/** Worst-case tiles per image: a full grid plus the global image when splitting, else 1. */
export function maxTilesPerImage(settings: TileSettings): number {
  if (!settings.splitting || settings.padToSquare) return 1;
  const side = maxGridSide(settings);
  return side > 1 ? side * side + 1 : 1;
}
