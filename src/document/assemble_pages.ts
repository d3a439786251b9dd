/**
 * The one place converted pages become one document: the DocTags plugin's
 * `assembleDocument` (docling's multi-page reading, provenance boxes scaled to
 * each page, picture crops), fed with what a conversion keeps of each page.
 *
 * Only pages with a located picture keep their raster (see
 * {@linkcode needsRaster}): a 144 dpi Letter page is 5.8 MB of RGB, so a long
 * document's rasters would not fit an edge runtime. The other pages get a
 * 1×1 stand-in, because docling always reads with page images (list items and
 * key-value cells get boxes then) and the output must not depend on which
 * pages happen to hold a picture; nothing is ever cropped from a stand-in.
 *
 * @module
 */
import {
  type AssembledDocument,
  assembleDocument,
  type AssembleOptions,
  type DocumentPage,
} from "../../plugins/doctags/pages.ts";
import type { RgbImage } from "../image/raster.ts";

export type { AssembledDocument, AssembleOptions, DocumentPage };

/** A `<picture>` or `<chart>` that opens with a location: the blocks assembly crops. */
const LOCATED_PICTURE = /<(?:picture|chart)>\s*<loc_\d+>/;

/** Whether assembly will crop something from this page's raster, so the raster must be kept. */
export function needsRaster(doctags: string): boolean {
  return LOCATED_PICTURE.test(doctags);
}

const STAND_IN: RgbImage = { width: 1, height: 1, data: new Uint8Array([255, 255, 255]) };

/** One page as a conversion keeps it. */
export interface ConvertedPage {
  /** 1-based page number. */
  pageNo: number;
  /** The page's DocTags (empty for a failed page). */
  doctags: string;
  /** The size boxes are measured in: the raster's pixels (docling's convention). */
  size: { width: number; height: number };
  /** The raster, kept only when {@linkcode needsRaster} said so. */
  image?: RgbImage;
}

/** Assembles `pages` (any order) into one document. */
export function assemblePages(
  pages: readonly ConvertedPage[],
  options: AssembleOptions = {},
): AssembledDocument {
  const ordered = [...pages].sort((a, b) => a.pageNo - b.pageNo);
  return assembleDocument(
    ordered.map((page) => ({
      pageNo: page.pageNo,
      doctags: page.doctags,
      size: page.size,
      image: page.image ?? STAND_IN,
    })),
    options,
  );
}
