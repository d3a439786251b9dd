/**
 * Where a picture sits in the page image: its box (page units, top-left
 * origin) mapped to the image's pixels the way docling-core's
 * `load_from_doctags` crops it, each edge `int(fraction × image side)`, then
 * kept inside the image.
 *
 * @module
 */
import type { BoundingBox, PageSize } from "./document.ts";

/** A pixel rectangle inside an image. */
export interface PixelRect {
  /** First column. */
  left: number;
  /** First row. */
  top: number;
  /** Columns (at least 1). */
  width: number;
  /** Rows (at least 1). */
  height: number;
}

/**
 * A page fraction, snapped back to the `<loc_N>` grid (N / 500) when it came
 * from one, so that `fraction × side` is computed as docling computes it.
 */
function fraction(value: number, side: number): number {
  const f = value / side;
  const n = Math.round(f * 500);
  return Math.abs(f * 500 - n) < 1e-6 ? n / 500 : f;
}

/** `int(f × side)` (truncation, as Python's `int`), kept within 0..side. */
function edge(f: number, side: number): number {
  const v = Math.trunc(f * side);
  return Number.isFinite(v) ? Math.min(Math.max(v, 0), side) : 0;
}

/**
 * The pixels of `image` that `box` (in `page` units) covers, or `undefined`
 * when that is empty (a box of zero size, reversed, or entirely outside).
 */
export function pictureCropRect(
  box: BoundingBox,
  page: PageSize,
  image: PageSize,
): PixelRect | undefined {
  const left = edge(fraction(box.l, page.width), image.width);
  const top = edge(fraction(box.t, page.height), image.height);
  const right = edge(fraction(box.r, page.width), image.width);
  const bottom = edge(fraction(box.b, page.height), image.height);
  if (right <= left || bottom <= top) return undefined;
  return { left, top, width: right - left, height: bottom - top };
}
