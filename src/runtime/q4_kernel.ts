/**
 * The per-backend choice of kernel for 4-bit (MatMulNBits, MatMulBnb4) weights, applied to
 * a file's bytes before its session opens, and the report of what was done.
 * Native ONNX Runtime has fast 4-bit kernels (int8 activations at
 * `accuracy_level` 4); onnxruntime-web has none, so `auto` re-packs there.
 *
 * @module
 */
import type { Q4Kernel, RuntimeName } from "./load_options.ts";
import { type ExternalData, type KeptNode, rewriteMatMulNBits } from "./nbits_rewrite.ts";
import { WireError } from "../onnx/protobuf_wire.ts";
import { REPACK_LEVELS } from "./nbits_repack.ts";

/** Seven-bit weights: u8×s8 pair sums fit int16 on x86 without VNNI (as the builder's int8). */
const MATMUL_INT8_LEVELS = 63;

export type { Q4Kernel } from "./load_options.ts";
export type { KeptNode } from "./nbits_rewrite.ts";

/** How one file's 4-bit matmuls run. */
export interface Q4KernelReport {
  /** The file, e.g. `onnx/decoder_model_merged_q4.onnx`. */
  file: string;
  /** `int8-repack`: 4-bit matmuls re-packed to the int8 chain; `original`: kept as published. */
  kernel: "int8-repack" | "original";
  /** 4-bit matmul nodes re-packed. */
  rewritten: number;
  /** 4-bit matmul nodes left as they are, and why. */
  kept: KeptNode[];
  /** Time spent re-packing, ms. */
  ms: number;
}

/** Whether `choice` re-packs 4-bit weights on `backend`. */
export function repacksQ4(choice: Q4Kernel | undefined, backend: RuntimeName): boolean {
  const c = choice ?? "auto";
  return c === "int8" || (c === "auto" && backend === "wasm");
}

/**
 * `bytes` with their 4-bit matmuls re-packed to int8 (unchanged when there
 * are none), and the report; `undefined` report for files without
 * MatMulNBits or MatMulBnb4. Bytes that do not parse are passed on for ONNX Runtime to
 * reject with its own message.
 */
export function applyQ4Kernel(
  file: string,
  bytes: Uint8Array,
  externalData: ExternalData | undefined,
  backend: RuntimeName,
): { bytes: Uint8Array; report?: Q4KernelReport } {
  const started = performance.now();
  try {
    // Full int8 range where the product is exact (wasm); 7 bits on CPUs that may lack VNNI.
    const levels = backend === "wasm" ? REPACK_LEVELS : MATMUL_INT8_LEVELS;
    const r = rewriteMatMulNBits(bytes, externalData, levels);
    if (r.rewritten === 0 && r.kept.length === 0) return { bytes };
    return {
      bytes: r.bytes,
      report: {
        file,
        kernel: r.rewritten > 0 ? "int8-repack" : "original",
        rewritten: r.rewritten,
        kept: r.kept,
        ms: performance.now() - started,
      },
    };
  } catch (error) {
    if (error instanceof WireError) return { bytes };
    throw error;
  }
}
