/**
 * The JPEG decoder: libjpeg-turbo's decoder (the mozjpeg build shipped by
 * `@jsquash/jpeg`) compiled to WebAssembly. It is the library Pillow decodes
 * with, with the same defaults (islow IDCT, fancy upsampling), so pixels equal
 * Pillow's exactly. The module is compiled once, when this file is loaded (top-level
 * await), so {@linkcode decodeJpegWasm} and `decodeImage` stay synchronous.
 *
 * Where the wasm bytes come from:
 * - bundles made by `vlm bundle`: embedded in the bundle
 *   (`jpeg_wasm_binary.ts` is substituted); no permission, no fetch.
 * - Deno (and anything that runs the sources): read from the npm package,
 *   which needs read permission. At load the file is read only if that
 *   permission is already granted (no prompt); otherwise the first JPEG decode
 *   fails with `image_unsupported` until {@linkcode initJpegDecoder} succeeds.
 *
 * @module
 */
import createMozJpegModule from "npm:@jsquash/jpeg@1.6.0/codec/dec/mozjpeg_dec.js";
import { VlmError } from "../errors/vlm_error.ts";
import { platform } from "../platform/current.ts";
import { JPEG_WASM_BINARY } from "./jpeg_wasm_binary.ts";
import type { RgbImage } from "./raster.ts";

/**
 * After a decode leaves the wasm heap larger than this, the instance is dropped
 * (and its memory with it); the next decode instantiates a fresh one in about a
 * millisecond. Images up to ~3 MP fit without the heap growing. A 12 MP photo
 * leaves a 56 MB heap; keeping it would save a third of the next such decode
 * (page faults on a fresh heap, tools/bench/preprocess_profile.ts), but on the
 * edge that memory would stay resident between requests, so it is released.
 */
const RETAINED_HEAP_BYTES = 32 * 1024 * 1024;

/** The part of the Emscripten module this file uses. */
interface MozJpegModule {
  decode(data: Uint8Array, preserveOrientation: boolean): ImageData | null;
  HEAPU8: Uint8Array;
}

type ModuleFactory = (options: Record<string, unknown>) => Promise<unknown>;

let compiled: WebAssembly.Module | undefined;
let loading: Promise<void> | undefined;
let loadError: unknown;
let instance: MozJpegModule | undefined;
/** libjpeg's warnings and errors of the current decode (its stderr). */
const messages: string[] = [];

/** Where the npm package keeps the binary (a `file:` URL under Deno and Node). */
function wasmUrl(): URL {
  // A literal specifier, so publishing can analyze it; it names the package the decoder came from.
  return new URL(import.meta.resolve("npm:@jsquash/jpeg@1.6.0/codec/dec/mozjpeg_dec.wasm"));
}

async function wasmBytes(prompt: boolean): Promise<Uint8Array> {
  if (JPEG_WASM_BINARY) return JPEG_WASM_BINARY;
  const url = wasmUrl();
  const host = platform();
  if (url.protocol === "file:" && host.fileSystem) {
    // Without permission Deno would prompt: only when the caller may be asked.
    if (!prompt && !host.mayRead(url)) {
      throw new Error(`reading ${url.pathname} needs read permission (--allow-read)`);
    }
    const bytes = await host.readFile(url);
    if (!bytes) throw new Error(`${url.pathname} is missing from the installed package`);
    return bytes;
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} failed: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function load(prompt: boolean): Promise<void> {
  loading ??= wasmBytes(prompt)
    .then((bytes) => WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>))
    .then((module) => {
      compiled = module;
      loadError = undefined;
    })
    .catch((error) => {
      loading = undefined; // a later call may succeed (e.g. once read permission is granted)
      loadError = error;
      throw error;
    });
  return loading;
}

/**
 * Loads and compiles the decoder. Idempotent; already done when this module
 * has loaded, unless the wasm file could not be read without a permission
 * prompt, in which case this call may prompt for read access.
 */
export function initJpegDecoder(): Promise<void> {
  return compiled ? Promise.resolve() : load(true);
}

/** Whether {@linkcode decodeJpegWasm} can run. */
export function jpegDecoderReady(): boolean {
  return compiled !== undefined;
}

/** A new instance; with a synchronous `instantiateWasm`, `decode` is usable at once. */
function instantiate(module: WebAssembly.Module): MozJpegModule {
  const options: Record<string, unknown> = {
    noInitialRun: true,
    print: (text: string) => messages.push(text),
    printErr: (text: string) => messages.push(text),
    instantiateWasm(
      imports: WebAssembly.Imports,
      receive: (instance: WebAssembly.Instance) => void,
    ) {
      const wasm = new WebAssembly.Instance(module, imports);
      receive(wasm);
      return wasm.exports;
    },
  };
  // The factory fills in `options` and resolves to it; an abort rejects (handled below).
  (createMozJpegModule as unknown as ModuleFactory)(options).catch(() => {});
  if (typeof options.decode !== "function") throw new Error("the JPEG decoder did not initialise");
  return options as unknown as MozJpegModule;
}

/**
 * Decodes JPEG bytes (baseline, progressive, greyscale, YCbCr, RGB) to RGB
 * exactly as libjpeg-turbo does, without applying EXIF orientation. Throws
 * `VlmError` `image_unsupported` if the decoder could not be loaded, and a
 * plain `Error` carrying libjpeg's message for corrupt data (CMYK/YCCK
 * included: libjpeg cannot convert them to RGB).
 */
export function decodeJpegWasm(bytes: Uint8Array): RgbImage {
  if (!compiled) {
    throw new VlmError(
      "image_unsupported",
      `the JPEG decoder (WebAssembly) is not loaded: ${
        loadError instanceof Error ? loadError.message : String(loadError)
      }`,
      {
        fix: "run Deno with --allow-read (the decoder is read from the @jsquash/jpeg package), " +
          "or await initJpegDecoder() before decoding, or use a `vlm bundle` build, which embeds it",
        cause: loadError,
      },
    );
  }
  const decoder = instance ??= instantiate(compiled);
  messages.length = 0;
  let decoded: ImageData | null;
  try {
    decoded = decoder.decode(bytes, false);
  } catch (error) {
    // libjpeg's error_exit calls exit(): the exception unwinds past the wasm stack
    // pointer and the allocations of this call, so this instance is not reused.
    instance = undefined;
    throw new Error(`libjpeg: ${messages.join("; ") || String(error)}`, { cause: error });
  }
  if (decoder.HEAPU8.length > RETAINED_HEAP_BYTES) instance = undefined;
  if (!decoded) throw new Error(`libjpeg returned no image ${messages.join("; ")}`);
  // Pillow refuses data that ends early; libjpeg only warns and pads with grey.
  // "premature end of data segment": a scan hit a marker early and the rest is grey padding.
  const premature = messages.find((m) =>
    m.startsWith("Premature end of JPEG file") || m.includes("premature end of data segment")
  );
  if (premature) throw new Error(`libjpeg: ${premature} (truncated file)`);
  const { width, height, data } = decoded;
  const pixels = width * height;
  // The RGBA is normally a copy made for us: drop alpha in place (each write lands at or
  // before the byte being read) and keep its buffer, rather than fault in a fresh 3-byte one.
  const owned = data.buffer !== decoder.HEAPU8.buffer;
  const rgb = owned
    ? new Uint8Array(data.buffer, data.byteOffset, pixels * 3)
    : new Uint8Array(pixels * 3);
  for (let i = 0, j = 0; i < pixels * 3; i += 3, j += 4) {
    rgb[i] = data[j];
    rgb[i + 1] = data[j + 1];
    rgb[i + 2] = data[j + 2];
  }
  return { width, height, data: rgb };
}

// Compiled at load so decoding stays synchronous; a failure is reported by the first decode.
await load(false).catch(() => {});
