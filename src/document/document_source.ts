/**
 * What a document conversion reads: a PDF (bytes), or images (one page
 * each). Each page is described by its number and size and renders to the
 * image bytes the model reads, on demand, so no more than one page's raster
 * is held at a time.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { decodeImage } from "../image/decode.ts";
import type { RgbImage } from "../image/raster.ts";
import { readImageHeader } from "../image/sniff.ts";
import { type ImageSource, readImageSource } from "../image/source.ts";
import { encodePng } from "../image/png_encode.ts";
import { DEFAULT_PDF_SCALE } from "./pdf_scale.ts";

/** A PDF's bytes, one image's bytes, or several images (each one page). */
export type DocumentSource = Uint8Array | ArrayBuffer | readonly ImageSource[];

/** Options of {@linkcode openDocumentSource}. */
export interface DocumentSourceOptions {
  /** Pixels per PDF point (default 2: 144 dpi). Images are used at their own size. */
  scale?: number;
  /** Refuse PDFs with more pages than this (default 1000). */
  maxPages?: number;
  /** Refuse rasters with more pixels than this (default 50 million). */
  maxPixels?: number;
  /** Password of an encrypted PDF. */
  password?: string;
  /** Cancels reading image sources. */
  signal?: AbortSignal;
}

/** One page of an open source. */
export interface SourcePage {
  /** 1-based page number. */
  pageNo: number;
  /** PDF points, or pixels for an image. */
  size: { width: number; height: number };
  /** Pixel size of the raster (the PDF page at the render scale, or the image). */
  rasterSize: { width: number; height: number };
  /** The raster, decoded or rendered now. */
  pixels(): RgbImage;
  /**
   * What the model reads: encoded image bytes (PNG for PDF pages, the file
   * itself for images) and, when producing them rendered the page, its raster.
   */
  render(): { bytes: Uint8Array; pixels?: RgbImage };
}

/** An open document. Close it when done: a PDF holds wasm memory. */
export interface OpenDocument {
  /** `pdf` or `images`. */
  kind: "pdf" | "images";
  /** Every page, in order. */
  pages: readonly SourcePage[];
  /** Frees the PDF. */
  close(): void;
}

/** Whether `bytes` is a PDF: `%PDF-` within the first 1024 bytes, as readers accept it. */
export function isPdf(bytes: Uint8Array): boolean {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 1024));
  return head.includes("%PDF-");
}

/** Opens `source`; fails with a typed error for an unreadable PDF or image. */
export async function openDocumentSource(
  source: DocumentSource,
  options: DocumentSourceOptions = {},
): Promise<OpenDocument> {
  const images = Array.isArray(source) ? source as readonly ImageSource[] : undefined;
  if (!images) {
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source as Uint8Array;
    if (isPdf(bytes)) return await openPdfSource(bytes, options);
    try {
      return openImages([bytes], options.maxPixels);
    } catch (error) {
      if (!(error instanceof VlmError) || error.code !== "image_unsupported") throw error;
      throw new VlmError("image_unsupported", "the document is not a PDF, PNG or JPEG file", {
        fix: "pass a PDF, or the pages as PNG or JPEG images",
        cause: error,
      });
    }
  }
  if (images.length === 0) {
    throw new VlmError("input_invalid", "the document has no pages: no images were given", {
      fix: "pass a PDF or at least one PNG or JPEG image",
    });
  }
  const all: Uint8Array[] = [];
  for (const image of images) all.push(await readImageSource(image, { signal: options.signal }));
  return openImages(all, options.maxPixels);
}

async function openPdfSource(
  bytes: Uint8Array,
  options: DocumentSourceOptions,
): Promise<OpenDocument> {
  const scale = options.scale ?? DEFAULT_PDF_SCALE;
  // Loaded here, not at the top: PDFium (about 3 MB of WebAssembly) stays out of programs
  // and bundles that only ever see images.
  const { openPdf } = await import("./pdf_document.ts");
  const pdf = await openPdf(bytes, { password: options.password, maxPages: options.maxPages });
  try {
    const pages = Array.from({ length: pdf.pageCount }, (_, i): SourcePage => {
      const pageNo = i + 1;
      const pixels = () => pdf.renderPage(pageNo, { scale, maxPixels: options.maxPixels });
      return {
        pageNo,
        size: pdf.pageSize(pageNo),
        rasterSize: pdf.rasterSize(pageNo, scale),
        pixels,
        render: () => {
          const image = pixels();
          return { bytes: encodePng(image), pixels: image };
        },
      };
    });
    return { kind: "pdf", pages, close: () => pdf.close() };
  } catch (error) {
    pdf.close();
    throw error;
  }
}

function openImages(all: readonly Uint8Array[], maxPixels?: number): OpenDocument {
  const pages = all.map((bytes, i): SourcePage => {
    // Refuses anything but PNG and JPEG (a typed image error) before any page runs.
    const { width, height } = readImageHeader(bytes);
    return {
      pageNo: i + 1,
      size: { width, height },
      rasterSize: { width, height },
      pixels: () => decodeImage(bytes, { maxPixels }),
      render: () => ({ bytes }),
    };
  });
  return { kind: "images", pages, close: () => {} };
}
