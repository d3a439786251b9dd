/**
 * An open PDF: page count, page sizes in points and pages rendered to
 * vlmkit's RGB raster, all through PDFium in WebAssembly. Page numbers are
 * 1-based, as a reader counts them.
 *
 * @module
 */
import { DEFAULT_MAX_PIXELS } from "../image/decode.ts";
import type { RgbImage } from "../image/raster.ts";
import { VlmError } from "../errors/vlm_error.ts";
import { loadPdfium, type Pdfium } from "./pdfium.ts";
import { DEFAULT_PDF_SCALE } from "./pdf_scale.ts";

export { DEFAULT_PDF_SCALE };
/** Pages a document may have before {@linkcode openPdf} refuses it. */
export const DEFAULT_MAX_PAGES = 1000;

/** A page's size in PDF points (1/72 inch), rotation applied. */
export interface PageSize {
  /** Width in points. */
  width: number;
  /** Height in points. */
  height: number;
}

/** Options of {@linkcode openPdf}. */
export interface OpenPdfOptions {
  /** Password of an encrypted PDF. */
  password?: string;
  /** Refuse documents with more pages than this (default {@linkcode DEFAULT_MAX_PAGES}). */
  maxPages?: number;
}

/** Options of {@linkcode PdfDocument.renderPage}. */
export interface RenderPageOptions {
  /** Pixels per point (default {@linkcode DEFAULT_PDF_SCALE}; dpi = 72 × scale). */
  scale?: number;
  /** Refuse rasters with more pixels than this (default 50 million, as for images). */
  maxPixels?: number;
}

/** An open PDF. Call {@linkcode PdfDocument.close} when done (it frees wasm memory). */
export interface PdfDocument {
  /** Number of pages. */
  readonly pageCount: number;
  /** The size of page `pageNo` (1-based) in points. */
  pageSize(pageNo: number): PageSize;
  /** The pixel size page `pageNo` renders to at `scale`. */
  rasterSize(pageNo: number, scale?: number): { width: number; height: number };
  /** Renders page `pageNo` (1-based) on white, annotations included. */
  renderPage(pageNo: number, options?: RenderPageOptions): RgbImage;
  /** Frees the document; later calls fail. */
  close(): void;
}

// PDFium's FPDF_GetLastError codes.
const FPDF_ERR_FILE = 2;
const FPDF_ERR_FORMAT = 3;
const FPDF_ERR_PASSWORD = 4;
const FPDF_ERR_SECURITY = 5;
// FPDF_RenderPageBitmap flags: draw annotations; R, G, B byte order instead of B, G, R.
const FPDF_ANNOT = 0x01;
const FPDF_REVERSE_BYTE_ORDER = 0x10;

function openError(code: number, hasPassword: boolean): VlmError {
  if (code === FPDF_ERR_PASSWORD) {
    return new VlmError(
      "input_invalid",
      hasPassword ? "the PDF's password is wrong" : "the PDF is encrypted with a password",
      { fix: "pass the document's password (password option), or decrypt the PDF first" },
    );
  }
  if (code === FPDF_ERR_SECURITY) {
    return new VlmError("input_invalid", "the PDF uses an unsupported security handler", {
      fix: "save the PDF without encryption and convert that copy",
    });
  }
  const what = code === FPDF_ERR_FORMAT || code === FPDF_ERR_FILE
    ? "is not a valid PDF (corrupt or truncated)"
    : `cannot be opened (PDFium error ${code})`;
  return new VlmError("input_invalid", `the document ${what}`, {
    fix: "check that the file is a complete PDF (e.g. open it in a PDF viewer) and pass it again",
  });
}

/** Pixel size of `points` at `scale`, rounded up as pypdfium2 does. */
function pixels(points: number, scale: number): number {
  return Math.max(1, Math.ceil(points * scale - 1e-6));
}

/**
 * Opens PDF `bytes` (copied into PDFium's memory; the caller's array is not
 * kept). Fails with `input_invalid` for an encrypted, corrupt or over-long
 * document.
 *
 * @example
 * ```ts
 * const pdf = await openPdf(await Deno.readFile("paper.pdf"));
 * try {
 *   const page = pdf.renderPage(1); // RgbImage at 144 dpi
 * } finally {
 *   pdf.close();
 * }
 * ```
 */
export async function openPdf(
  bytes: Uint8Array,
  options: OpenPdfOptions = {},
): Promise<PdfDocument> {
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  const pdfium = await loadPdfium();
  const heap = () => pdfium.pdfium.HEAPU8;
  const { malloc, free } = pdfium.pdfium.wasmExports;
  const data = malloc(Math.max(1, bytes.length));
  if (!data) {
    throw new VlmError("input_invalid", `a ${bytes.length}-byte PDF does not fit PDFium's memory`, {
      fix: "split the PDF into smaller files",
    });
  }
  heap().set(bytes, data);
  const handle = pdfium.FPDF_LoadMemDocument(data, bytes.length, options.password ?? "");
  if (!handle) {
    const code = pdfium.FPDF_GetLastError();
    free(data);
    throw openError(code, options.password !== undefined);
  }
  const pageCount = pdfium.FPDF_GetPageCount(handle);
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    pdfium.FPDF_CloseDocument(handle);
    free(data);
  };
  if (pageCount > maxPages) {
    close();
    throw new VlmError(
      "input_invalid",
      `the PDF has ${pageCount} pages, more than the limit of ${maxPages}`,
      { fix: `convert a range of pages (pages option, e.g. "1-${maxPages}") or raise maxPages` },
    );
  }
  const checkPage = (pageNo: number) => {
    if (!open) {
      throw new VlmError("usage", "the PDF was closed", { fix: "open it again with openPdf" });
    }
    if (!Number.isInteger(pageNo) || pageNo < 1 || pageNo > pageCount) {
      throw new VlmError(
        "input_invalid",
        `page ${pageNo} is not in the PDF (pages 1-${pageCount})`,
        {
          fix: `ask for pages between 1 and ${pageCount}`,
        },
      );
    }
  };
  const pageSize = (pageNo: number): PageSize => {
    checkPage(pageNo);
    const size = malloc(8);
    try {
      if (!pdfium.FPDF_GetPageSizeByIndexF(handle, pageNo - 1, size)) {
        throw new VlmError("input_invalid", `page ${pageNo} of the PDF is corrupt`, {
          fix: "repair the PDF (e.g. print it to a new PDF) or leave the page out",
        });
      }
      const floats = new Float32Array(heap().buffer, size, 2);
      return { width: floats[0], height: floats[1] };
    } finally {
      free(size);
    }
  };
  const rasterSize = (pageNo: number, scale = DEFAULT_PDF_SCALE) => {
    if (!(scale > 0) || !Number.isFinite(scale)) {
      throw new VlmError("input_invalid", `the render scale ${scale} is not a positive number`, {
        fix: "use a scale such as 2 (144 dpi)",
      });
    }
    const size = pageSize(pageNo);
    return { width: pixels(size.width, scale), height: pixels(size.height, scale) };
  };
  return {
    pageCount,
    pageSize,
    rasterSize,
    renderPage(pageNo, renderOptions = {}) {
      const scale = renderOptions.scale ?? DEFAULT_PDF_SCALE;
      const maxPixels = renderOptions.maxPixels ?? DEFAULT_MAX_PIXELS;
      const { width, height } = rasterSize(pageNo, scale);
      // Checked from the page size, before PDFium allocates anything.
      if (width * height > maxPixels) {
        throw new VlmError(
          "image_too_large",
          `page ${pageNo} renders to ${width}x${height} pixels at scale ${scale}, over the ` +
            `limit of ${maxPixels}`,
          { fix: "render at a lower scale (--dpi) or raise the pixel limit (maxPixels)" },
        );
      }
      return renderBitmap(pdfium, handle, pageNo, width, height);
    },
    close,
  };
}

function renderBitmap(
  pdfium: Pdfium,
  document: number,
  pageNo: number,
  width: number,
  height: number,
): RgbImage {
  const page = pdfium.FPDF_LoadPage(document, pageNo - 1);
  if (!page) {
    throw new VlmError("input_invalid", `page ${pageNo} of the PDF cannot be loaded`, {
      fix: "repair the PDF (e.g. print it to a new PDF) or leave the page out",
    });
  }
  const bitmap = pdfium.FPDFBitmap_Create(width, height, 0);
  try {
    if (!bitmap) {
      throw new VlmError(
        "image_too_large",
        `page ${pageNo} at ${width}x${height} pixels does not fit PDFium's memory`,
        { fix: "render at a lower scale (--dpi)" },
      );
    }
    pdfium.FPDFBitmap_FillRect(bitmap, 0, 0, width, height, 0xffffffff);
    pdfium.FPDF_RenderPageBitmap(
      bitmap,
      page,
      0,
      0,
      width,
      height,
      0,
      FPDF_ANNOT | FPDF_REVERSE_BYTE_ORDER,
    );
    const stride = pdfium.FPDFBitmap_GetStride(bitmap);
    const buffer = pdfium.FPDFBitmap_GetBuffer(bitmap);
    const heap = pdfium.pdfium.HEAPU8;
    const data = new Uint8Array(width * height * 3);
    // Four bytes per pixel (R, G, B, unused) in PDFium, three in vlmkit's raster.
    for (let y = 0; y < height; y++) {
      let from = buffer + y * stride;
      let to = y * width * 3;
      for (let x = 0; x < width; x++, from += 4, to += 3) {
        data[to] = heap[from];
        data[to + 1] = heap[from + 1];
        data[to + 2] = heap[from + 2];
      }
    }
    return { width, height, data };
  } finally {
    if (bitmap) pdfium.FPDFBitmap_Destroy(bitmap);
    pdfium.FPDF_ClosePage(page);
  }
}
