/**
 * The resampling passes in WebAssembly SIMD (`tools/wasm/resample.c`): the
 * same integer sums as `resample_scalar.ts`, four lanes at a time, so the
 * bytes are Pillow's. The coefficients still come from
 * `resample_coefficients.ts`. Where WebAssembly SIMD is missing the module
 * does not validate and {@linkcode resizeWasm} returns `undefined`: the caller
 * takes the TypeScript path.
 *
 * The module is 2 KB and compiled synchronously on first use, so resizing
 * stays synchronous and needs no permission or fetch.
 *
 * @module
 */
import type { Resample } from "../spec/types.ts";
import { axisCoefficients, rowsRead } from "./resample_coefficients.ts";
import { RESAMPLE_WASM_BASE64 } from "./resample_wasm_binary.ts";

/**
 * After a resize leaves the instance's memory larger than this, the instance
 * is dropped (wasm memory never shrinks); the next call instantiates a new one.
 */
const RETAINED_MEMORY_BYTES = 32 * 1024 * 1024;
const PAGE = 65536;
/** Bytes of source (or result) rows handed to one wasm call. */
const STAGING_BYTES = 64 * 1024;

interface Exports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  resample_horizontal(
    src: number,
    rows: number,
    inWidth: number,
    dst: number,
    outWidth: number,
    channels: number,
    bounds: number,
    weights: number,
    taps: number,
  ): void;
  resample_vertical(
    src: number,
    rowBytes: number,
    dst: number,
    outHeight: number,
    rowOffset: number,
    bounds: number,
    weights: number,
    taps: number,
  ): void;
}

/** `undefined`: not tried yet; `null`: WebAssembly SIMD is unavailable here. */
let compiled: WebAssembly.Module | null | undefined;
let instance: Exports | undefined;
let enabled = true;

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Compiles the resampler, or returns `null` where the host cannot run it (no
 * WebAssembly, or no SIMD: then the module does not validate).
 */
export function compileResampler(bytes: Uint8Array): WebAssembly.Module | null {
  if (typeof WebAssembly !== "object") return null;
  const source = bytes as Uint8Array<ArrayBuffer>;
  if (!WebAssembly.validate(source)) return null;
  try {
    return new WebAssembly.Module(source);
  } catch {
    return null; // e.g. a host that forbids synchronous compilation
  }
}

function exports(): Exports | undefined {
  if (!enabled) return undefined;
  if (compiled === undefined) compiled = compileResampler(decodeBase64(RESAMPLE_WASM_BASE64));
  if (!compiled) return undefined;
  instance ??= new WebAssembly.Instance(compiled, {}).exports as unknown as Exports;
  return instance;
}

/** Whether {@linkcode resizeWasm} runs here (WebAssembly SIMD present and not switched off). */
export function wasmResamplingAvailable(): boolean {
  return exports() !== undefined;
}

/**
 * Switches the WebAssembly path off (`false`) or back on, so tests and the
 * benchmark can run the TypeScript fallback on a host that has SIMD.
 */
export function setWasmResampling(on: boolean): void {
  enabled = on;
  if (!on) instance = undefined;
}

/** Reserves 16-byte-aligned regions one after the other. */
class Layout {
  end: number;
  constructor(start: number) {
    this.end = start;
  }
  take(bytes: number): number {
    const at = (this.end + 15) & ~15;
    this.end = at + bytes;
    return at;
  }
}

/** Rows per call: small staging buffers stay in cache, and V8 switches to its optimised code. */
function rowsPerCall(rowBytes: number): number {
  return Math.max(1, Math.floor(STAGING_BYTES / rowBytes));
}

/**
 * Pillow's `Image.resize` on interleaved 8-bit pixels of 1 to 4 channels, in
 * WebAssembly. Returns the resized bytes, or `undefined` where WebAssembly
 * SIMD is unavailable (or memory could not grow). The caller has validated
 * the target size.
 *
 * The source is streamed through a small staging buffer and the result
 * copied out in slices, so the wasm heap holds only the intermediate band
 * (the horizontal pass's output): a 12 MP photo needs about 18 MB, not 60.
 * Many short calls rather than one long one also matter: V8 runs a wasm
 * function's first calls in its baseline tier and never swaps code mid-call.
 */
export function resizeWasm(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  filter: Resample,
): Uint8Array | undefined {
  const wasm = exports();
  if (!wasm) return undefined;
  if (width === outWidth && height === outHeight) return data.slice();
  const horizontal = width !== outWidth ? axisCoefficients(width, outWidth, filter) : undefined;
  const vertical = height !== outHeight ? axisCoefficients(height, outHeight, filter) : undefined;
  // Only the source rows the vertical pass reads are resampled horizontally.
  const rows = vertical ? rowsRead(vertical) : { first: 0, end: height };
  const bandRows = rows.end - rows.first;
  const inRow = width * channels;
  const outRow = outWidth * channels;
  const inChunk = rowsPerCall(inRow);
  const outChunk = rowsPerCall(outRow);

  const layout = new Layout(wasm.__heap_base.value as number);
  const hBounds = layout.take(horizontal ? horizontal.bounds.byteLength : 0);
  const hWeights = layout.take(horizontal ? horizontal.weights.byteLength : 0);
  const vBounds = layout.take(vertical ? vertical.bounds.byteLength : 0);
  const vWeights = layout.take(vertical ? vertical.weights.byteLength : 0);
  // The horizontal pass reads up to 3 bytes past the last pixel.
  const staging = horizontal ? layout.take(inChunk * inRow + 4) : 0;
  // Vertical only: the band is the source rows themselves.
  const band = vertical ? layout.take(bandRows * outRow) : 0;
  const result = layout.take(outChunk * outRow);
  const memory = wasm.memory;
  const missing = Math.ceil(layout.end / PAGE) - memory.buffer.byteLength / PAGE;
  if (missing > 0) {
    try {
      memory.grow(missing);
    } catch {
      instance = undefined;
      return undefined; // out of memory for the wasm heap: the TypeScript path allocates less
    }
  }
  const heap = new Uint8Array(memory.buffer);
  const words = new Int32Array(memory.buffer);
  const out = new Uint8Array(outHeight * outRow);

  if (horizontal) {
    words.set(horizontal.bounds, hBounds / 4);
    words.set(horizontal.weights, hWeights / 4);
    // Into the band, or, with no vertical pass, through the result buffer into `out`.
    for (let y = 0; y < bandRows; y += inChunk) {
      const n = Math.min(inChunk, bandRows - y);
      const from = (rows.first + y) * inRow;
      heap.set(data.subarray(from, from + n * inRow), staging);
      const target = vertical ? band + y * outRow : result;
      wasm.resample_horizontal(
        staging,
        n,
        width,
        target,
        outWidth,
        channels,
        hBounds,
        hWeights,
        horizontal.taps,
      );
      if (!vertical) out.set(heap.subarray(result, result + n * outRow), y * outRow);
    }
  } else {
    heap.set(data.subarray(rows.first * inRow, rows.end * inRow), band);
  }
  if (vertical) {
    words.set(vertical.bounds, vBounds / 4);
    words.set(vertical.weights, vWeights / 4);
    for (let y = 0; y < outHeight; y += outChunk) {
      const n = Math.min(outChunk, outHeight - y);
      wasm.resample_vertical(
        band,
        outRow,
        result,
        n,
        rows.first,
        vBounds + y * 8,
        vWeights + y * vertical.taps * 4,
        vertical.taps,
      );
      out.set(heap.subarray(result, result + n * outRow), y * outRow);
    }
  }
  if (memory.buffer.byteLength > RETAINED_MEMORY_BYTES) instance = undefined;
  return out;
}
