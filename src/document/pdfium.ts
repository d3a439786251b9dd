/**
 * PDFium in WebAssembly (the `@embedpdf/pdfium` build; docling renders pages
 * with PDFium too, through pypdfium2). The module is instantiated once, on
 * first use, and shared: its calls are synchronous, so documents opened from
 * different requests never interleave inside one call.
 *
 * @module
 */
import { init } from "npm:@embedpdf/pdfium@2.15.1";
import { VlmError } from "../errors/vlm_error.ts";
import { platform } from "../platform/current.ts";
import { loadPdfiumWasmBinary } from "./pdfium_wasm_binary.ts";

/** The part of the PDFium API vlmkit calls (names and arguments as in PDFium's C API). */
export interface Pdfium {
  /** The Emscripten module: heap and allocator. */
  pdfium: {
    HEAPU8: Uint8Array;
    wasmExports: { malloc(size: number): number; free(pointer: number): void };
  };
  PDFiumExt_Init(): void;
  FPDF_LoadMemDocument(data: number, size: number, password: string): number;
  FPDF_CloseDocument(document: number): void;
  FPDF_GetLastError(): number;
  FPDF_GetPageCount(document: number): number;
  FPDF_GetPageSizeByIndexF(document: number, index: number, size: number): boolean;
  FPDF_LoadPage(document: number, index: number): number;
  FPDF_ClosePage(page: number): void;
  FPDFBitmap_Create(width: number, height: number, alpha: number): number;
  FPDFBitmap_FillRect(
    bitmap: number,
    left: number,
    top: number,
    width: number,
    height: number,
    color: number,
  ): boolean;
  FPDFBitmap_GetBuffer(bitmap: number): number;
  FPDFBitmap_GetStride(bitmap: number): number;
  FPDFBitmap_Destroy(bitmap: number): void;
  FPDF_RenderPageBitmap(
    bitmap: number,
    page: number,
    left: number,
    top: number,
    width: number,
    height: number,
    rotate: number,
    flags: number,
  ): void;
}

let loading: Promise<Pdfium> | undefined;

/** Where the npm package keeps the binary (a `file:` URL under Deno and Node). */
function wasmUrl(): URL {
  // A literal specifier, so publishing can analyze it.
  return new URL(import.meta.resolve("npm:@embedpdf/pdfium@2.15.1/pdfium.wasm"));
}

async function wasmBytes(): Promise<Uint8Array> {
  if (loadPdfiumWasmBinary) return await loadPdfiumWasmBinary();
  const url = wasmUrl();
  const host = platform();
  if (url.protocol === "file:" && host.fileSystem) {
    const bytes = await host.readFile(url);
    if (!bytes) throw new Error(`${url.pathname} is missing from the installed package`);
    return bytes;
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} failed: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function instantiate(): Promise<Pdfium> {
  const bytes = await wasmBytes();
  const binary = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const module = await init({ wasmBinary: binary as ArrayBuffer }) as unknown as Pdfium;
  module.PDFiumExt_Init();
  return module;
}

/**
 * The shared PDFium instance, loaded on first call. Fails with
 * `image_unsupported` when the binary cannot be read (a later call retries).
 */
export function loadPdfium(): Promise<Pdfium> {
  loading ??= instantiate().catch((error) => {
    loading = undefined;
    throw new VlmError("image_unsupported", `cannot load PDFium: ${(error as Error).message}`, {
      fix: "allow reading the npm cache (--allow-read), or use a bundle made by `vlm bundle`",
      cause: error,
    });
  });
  return loading;
}
