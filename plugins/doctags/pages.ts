/**
 * `assembleDocument`: per-page DocTags (one generation per page) and the page
 * images in, one multi-page document out, as docling builds it
 * (`DocTagsDocument.from_doctags_and_image_pairs` then
 * `DoclingDocument.load_from_doctags`, the path of docling's `VlmPipeline`):
 *
 * - pages keep the caller's numbers and sizes; `<loc_N>` boxes are `N / 500`
 *   of the page size, top-left origin (docling's `TOPLEFT`);
 * - Markdown joins the pages' blocks with blank lines and HTML puts them in
 *   one `<div class='page'>`, both as docling exports with default
 *   arguments: nothing marks a page break unless `pageBreakPlaceholder` is
 *   given (docling's `page_break_placeholder`);
 * - each `<picture>` / `<chart>` with a box is cropped from its page image
 *   and encoded as PNG; the Markdown, HTML and JSON reference the file by its
 *   relative path, as docling's `image_mode=REFERENCED` exports do.
 *
 * @module
 */
import type { RgbImage } from "../../src/image/raster.ts";
import { cropRgb } from "../../src/image/raster.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import type { BoundingBox, DocTagsDocument, PageSize, PictureNode } from "./document.ts";
import type { ParseIssue } from "./issues.ts";
import { parseReference } from "./reference_parser.ts";
import { parseTolerant } from "./tolerant_parser.ts";
import { toMarkdown } from "./markdown.ts";
import { toHtml } from "./html.ts";
import { toDoclingJson } from "./docling_json.ts";
import { pictureCropRect } from "./picture_crop.ts";
import { encodePng } from "../../src/image/png_encode.ts";
import { renumberPages } from "./page_renumber.ts";
import { joinPageDocTags } from "./page_doctags.ts";

/** One page to assemble. */
export interface DocumentPage {
  /** 1-based page number in the source (pages may skip numbers, but must increase). */
  pageNo: number;
  /** The page's DocTags, e.g. the model's raw output for the page. */
  doctags: string;
  /**
   * Page size: in PDF points for a PDF page (docling's page size), in pixels
   * for an image. `<loc_N>` boxes are scaled to it.
   */
  size: PageSize;
  /** The page raster, at any scale; pictures are cropped from it. */
  image?: RgbImage;
}

/** Options of {@link assembleDocument}. */
export interface AssembleOptions {
  /**
   * DocTags reader: `docling` (default) reads as docling-core 2.87 does, so
   * the exports match docling's; `tolerant` keeps content from truncated or
   * malformed output and reports every repair in `issues`.
   */
  reader?: "docling" | "tolerant";
  /** Document name (docling's `name`; default `Document`). */
  name?: string;
  /**
   * Folder of the picture files, relative to the exported document (default
   * `pictures`; `""` puts them next to it).
   */
  picturesDir?: string;
  /** Text put between pages in the Markdown (docling's `page_break_placeholder`); default none. */
  pageBreakPlaceholder?: string;
}

/** A picture cropped from its page. */
export interface AssembledPicture {
  /** Relative path the exports reference, e.g. `pictures/page-002-picture-01.png`. */
  path: string;
  /** The PNG file. */
  png: Uint8Array;
  /** Page the picture is on. */
  pageNo: number;
  /** The picture's box in page units (points or pixels, as the page size), top-left origin. */
  bbox: BoundingBox;
  /** Crop size in pixels of the page image. */
  size: PageSize;
}

/** What {@link assembleDocument} returns. */
export interface AssembledDocument {
  /** The typed document (pictures carry their stored image), for other exports. */
  document: DocTagsDocument;
  /** The DoclingDocument (schema 1.10.0) as a JSON value. */
  json: unknown;
  /**
   * The DoclingDocument as docling writes it (`json.dumps(export_to_dict(),
   * indent=2, ensure_ascii=False)`: Python float formatting, `1.0` not `1`).
   */
  jsonText: string;
  /** Markdown, pictures as `![Image](path)` when cropped. */
  markdown: string;
  /** HTML page, pictures as `<img src="path">` when cropped. */
  html: string;
  /** All pages' DocTags in one `<doctag>` envelope, pages separated by `<page_break>`. */
  doctags: string;
  /** The cropped pictures, in document order. */
  pictures: AssembledPicture[];
  /** Everything repaired, dropped or left out, with the page numbers given. */
  issues: ParseIssue[];
}

function invalid(message: string, fix: string): VlmError {
  return new VlmError("input_invalid", `assembleDocument: ${message}`, { fix });
}

function checkPages(pages: readonly DocumentPage[]): void {
  if (!Array.isArray(pages) || pages.length === 0) {
    throw invalid("no pages were given", "pass at least one page: { pageNo, doctags, size }");
  }
  let previous = 0;
  pages.forEach((page, i) => {
    const where = `pages[${i}]`;
    if (!Number.isSafeInteger(page?.pageNo) || page.pageNo < 1) {
      throw invalid(`${where}.pageNo is ${page?.pageNo}`, "number pages from 1");
    }
    if (page.pageNo <= previous) {
      throw invalid(
        `${where}.pageNo ${page.pageNo} does not follow page ${previous}`,
        "give the pages in increasing page order, each number once",
      );
    }
    previous = page.pageNo;
    if (typeof page.doctags !== "string") {
      throw invalid(`${where}.doctags is not a string`, "pass the page's DocTags text");
    }
    const { width, height } = page.size ?? {};
    if (!(width! > 0 && height! > 0 && Number.isFinite(width) && Number.isFinite(height))) {
      throw invalid(
        `${where}.size is ${JSON.stringify(page.size)}`,
        "give the page size as positive finite numbers (PDF points, or pixels for an image)",
      );
    }
    const image = page.image;
    if (image !== undefined) {
      const ok = Number.isSafeInteger(image.width) && Number.isSafeInteger(image.height) &&
        image.width > 0 && image.height > 0 &&
        image.data?.length === image.width * image.height * 3;
      if (!ok) {
        throw invalid(
          `${where}.image is not a ${image.width}x${image.height} RGB raster`,
          "pass an RgbImage whose data holds width × height × 3 bytes",
        );
      }
    }
  });
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/**
 * Assembles per-page DocTags into one document and its Markdown, HTML,
 * DoclingDocument JSON and picture files. Never throws on DocTags text (what
 * the reader repairs or drops is in `issues`); malformed pages (no pages, page
 * numbers not increasing, a size that is not positive, an image whose data
 * does not match its size) throw a `VlmError` with code `input_invalid`.
 *
 * @example
 * ```ts
 * import { assembleDocument } from "./mod.ts";
 *
 * const result = assembleDocument([
 *   {
 *     pageNo: 1,
 *     doctags: "<doctag><title><loc_50><loc_40><loc_450><loc_60>Report</title></doctag>",
 *     size: { width: 612, height: 792 },
 *   },
 * ]);
 * console.log(result.markdown); // "# Report"
 * ```
 */
export function assembleDocument(
  pages: readonly DocumentPage[],
  options: AssembleOptions = {},
): AssembledDocument {
  checkPages(pages);
  const reader = options.reader ?? "docling";
  if (reader !== "docling" && reader !== "tolerant") {
    throw new VlmError("usage", `assembleDocument: reader ${reader} is not docling or tolerant`, {
      fix: 'use reader: "docling" or "tolerant"',
    });
  }
  const dir = (options.picturesDir ?? "pictures").replace(/\/+$/, "");
  const texts = pages.map((p) => p.doctags);
  const sizes = pages.map((p) => ({ width: p.size.width, height: p.size.height }));
  // docling-core reads list-item and key-value boxes only when it has the page images.
  const withImages = pages.every((p) => p.image !== undefined);
  const { document, issues } = reader === "docling"
    ? parseReference(texts, sizes, withImages)
    : parseTolerant(texts, sizes, { collapseRepeats: 3 });
  document.name = options.name ?? "Document";
  renumberPages(document, issues, pages.map((p) => p.pageNo));

  const byNumber = new Map(pages.map((p) => [p.pageNo, p]));
  const counts = new Map<number, number>();
  const pictures: AssembledPicture[] = [];
  for (const block of document.body) {
    if (block.kind !== "picture") continue;
    const index = (counts.get(block.page) ?? 0) + 1;
    counts.set(block.page, index);
    const page = byNumber.get(block.page);
    if (!page?.image || !block.bbox) continue;
    const picture = cropPicture(block, page, index, dir, issues);
    if (picture) pictures.push(picture);
  }

  const jsonText = toDoclingJson(document, { withImages });
  return {
    document,
    json: JSON.parse(jsonText),
    jsonText,
    markdown: toMarkdown(document, {
      imageMode: "referenced",
      pageBreakPlaceholder: options.pageBreakPlaceholder,
    }),
    html: toHtml(document, { imageMode: "referenced" }),
    doctags: joinPageDocTags(pages.map((p) => p.doctags)),
    pictures,
    issues,
  };
}

/** Crops one picture, records its file on the node, or reports why there is none. */
function cropPicture(
  node: PictureNode,
  page: DocumentPage,
  index: number,
  dir: string,
  issues: ParseIssue[],
): AssembledPicture | undefined {
  const image = page.image!;
  const bbox = node.bbox!;
  const rect = pictureCropRect(bbox, page.size, image);
  if (!rect) {
    issues.push({
      code: "picture_not_cropped",
      message: `picture ${index} on page ${page.pageNo} has the box ` +
        `${bbox.l},${bbox.t},${bbox.r},${bbox.b}, which covers no pixel of the page image`,
      page: page.pageNo,
      tag: "picture",
    });
    return undefined;
  }
  const name = `page-${pad(page.pageNo, 3)}-picture-${pad(index, 2)}.png`;
  const path = dir === "" ? name : `${dir}/${name}`;
  const png = encodePng(cropRgb(image, rect.left, rect.top, rect.width, rect.height), 6);
  const size = { width: rect.width, height: rect.height };
  // docling records a crop's resolution as 72 dpi per page unit: 144 for a 2x raster of a PDF.
  const dpi = Math.trunc(72 * image.width / page.size.width);
  node.image = { mimetype: "image/png", dpi, size, uri: path };
  return { path, png, pageNo: page.pageNo, bbox: { ...bbox }, size };
}
