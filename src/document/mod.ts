/**
 * Documents: a PDF (rasterised by PDFium in WebAssembly) or page images in,
 * DocTags page by page out with a DocTags model (SmolDocling,
 * granite-docling), then one document as Markdown, HTML, DoclingDocument
 * JSON and DocTags.
 *
 * @example
 * ```ts ignore
 * import { loadModel } from "@vlmkit/vlmkit";
 * import { convertDocument } from "@vlmkit/vlmkit/document";
 *
 * const model = await loadModel("models/smoldocling");
 * const conversion = await convertDocument(model, await Deno.readFile("paper.pdf"), {
 *   pages: "1-3,7",
 * });
 * for await (const page of conversion) console.log(page.pageNo, page.status);
 * const { document } = await conversion.result();
 * await Deno.writeTextFile("paper.md", document.markdown);
 * ```
 *
 * @module
 */
export {
  convertDocument,
  type ConvertDocumentOptions,
  type ConvertedDocument,
  DEFAULT_PAGE_TOKEN_CAP,
  type DocumentConversion,
} from "./convert_document.ts";
export type { PageResult, PageStatus, PageTimings } from "./page_result.ts";
export type { AssembledDocument, AssembleOptions, DocumentPage } from "./assemble_pages.ts";
export { type DocumentSource, isPdf } from "./document_source.ts";
export {
  DEFAULT_MAX_PAGES,
  DEFAULT_PDF_SCALE,
  openPdf,
  type OpenPdfOptions,
  type PageSize,
  type PdfDocument,
  type RenderPageOptions,
} from "./pdf_document.ts";
export { formatPageRanges, parsePageRanges } from "./page_ranges.ts";
export {
  type DocumentsContext,
  type DocumentsRoute,
  documentsRoute,
} from "../server/documents_route.ts";
export type { ImageUrlOptions } from "../server/image_urls.ts";
export type { ImageBudget } from "../server/image_budget.ts";
export { encodePng } from "../image/png_encode.ts";
export type { DocumentSourceOptions } from "./document_source.ts";
// Types the functions above take or return, so the entry documents itself. The
// DocTags document's node types are the `./doctags` entry's.
export type { AssembledPicture } from "../../plugins/doctags/pages.ts";
export type { IssueCode, ParseIssue } from "../../plugins/doctags/issues.ts";
export type { VlmErrorCode } from "../errors/vlm_error.ts";
export type { TaskModel } from "../runtime/tasks/run_task.ts";
export type { RgbImage } from "../image/raster.ts";
export type { ImageSource } from "../image/source.ts";
