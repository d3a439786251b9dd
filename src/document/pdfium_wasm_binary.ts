/**
 * PDFium's WebAssembly binary (`pdfium.wasm` of `@embedpdf/pdfium`), when a
 * bundle embeds it. In the sources it is `undefined` and `pdfium.ts` reads the
 * file from the npm package (read permission under Deno); `vlm bundle`
 * substitutes this module with one that carries the bytes, so a bundle
 * rasterises PDFs with no permission and no fetch.
 *
 * @module
 */

/** The bytes of `pdfium.wasm`, or `undefined` to read them from the npm package. */
export const PDFIUM_WASM_BINARY: Uint8Array | undefined = undefined;
