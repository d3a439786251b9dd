/**
 * Whether a model fits the wasm backend. WebAssembly (wasm32) memory is one
 * 32-bit address space: at most 4 GiB. onnxruntime-web copies each model file
 * into that memory and builds its weight tensors from the copy, so loading
 * needs about twice the weight bytes, plus activations and the KV cache. The
 * native backend has no such ceiling.
 *
 * @module
 */
import { layoutOf } from "../families/registry.ts";
import type { Plan } from "../spec/plan.ts";
import type { Dtype } from "../spec/types.ts";
import { weightBytes } from "../tokens/memory.ts";

/** The wasm32 address-space ceiling. */
export const WASM_MEMORY_LIMIT = 4 * 1024 ** 3;

/** Headroom kept for activations, the KV cache and the runtime itself. */
const HEADROOM = 512 * 1024 ** 2;

/** The wasm backend's memory estimate for a plan. */
export interface WasmMemoryEstimate {
  /** Weight bytes of the planned files. */
  weightBytes: number;
  /** Bytes needed while loading (file copy + tensors) plus headroom. */
  peakBytes: number;
  /** Whether that estimate stays under {@linkcode WASM_MEMORY_LIMIT}. */
  fits: boolean;
  /** Whether the weights plus headroom alone stay under it (if not, loading certainly fails). */
  possible: boolean;
}

/** The dtype of each module's weights, from the plan's files. */
export function planModuleDtypes(plan: Plan): { encoder: Dtype; projector: Dtype; decoder: Dtype } {
  const roles = layoutOf(plan.spec).roles;
  const dtypeOf = (module: string): Dtype =>
    plan.files.find((f) => f.module === module)?.dtype ?? "fp32";
  return {
    encoder: dtypeOf(roles.vision),
    // A fused projector is stored in the vision file, at its dtype.
    projector: dtypeOf(roles.projector ?? roles.vision),
    decoder: dtypeOf(roles.decoder),
  };
}

/** Estimates the wasm backend's peak memory for the plan's files and dtypes. */
export function wasmMemoryEstimate(plan: Plan): WasmMemoryEstimate {
  const bytes = weightBytes(plan.params, planModuleDtypes(plan)).total;
  const peakBytes = 2 * bytes + HEADROOM;
  return {
    weightBytes: bytes,
    peakBytes,
    fits: peakBytes <= WASM_MEMORY_LIMIT,
    possible: bytes + HEADROOM <= WASM_MEMORY_LIMIT,
  };
}
