/**
 * PDFium's WebAssembly binary (`pdfium.wasm` of `@embedpdf/pdfium`), when a
 * bundle embeds it. In the sources it is `undefined` and `pdfium.ts` reads the
 * file from the npm package (read permission under Deno); `vlm bundle`
 * substitutes this module with one that carries the bytes, so a bundle
 * rasterises PDFs with no permission and no fetch. The bundle inflates them on
 * first call, not when it loads: most users of a bundle never open a PDF.
 *
 * @module
 */

/** Resolves to the bytes of `pdfium.wasm`, or `undefined` to read them from the npm package. */
export const loadPdfiumWasmBinary: (() => Promise<Uint8Array>) | undefined = undefined;
