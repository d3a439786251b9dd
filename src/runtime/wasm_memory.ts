/**
 * Whether a model fits the wasm backend. WebAssembly (wasm32) memory is one
 * 32-bit address space: at most 4 GiB, and ONNX Runtime's heap there never
 * shrinks. The weights go in as external data copied straight into their
 * tensors (external_weights.ts), so after loading the heap holds about the
 * weights' own bytes in the form the sessions run them: 4-bit matmuls
 * re-packed to int8 (nbits_rewrite.ts) and the token-embedding table left
 * on disk (embedding_table.ts). While a session opens, its file is also held
 * once in JS, outside the heap. The native backend has no such ceiling.
 *
 * @module
 */
import { layoutOf } from "../families/registry.ts";
import type { ModuleParams, Plan } from "../spec/plan.ts";
import type { Dtype } from "../spec/types.ts";
import { DTYPE_STORAGE, weightBytes } from "../tokens/memory.ts";
import type { Q4Kernel } from "./load_options.ts";
import { repacksQ4 } from "./q4_kernel.ts";

/** The wasm32 address-space ceiling. */
export const WASM_MEMORY_LIMIT = 4 * 1024 ** 3;

/** Headroom kept for activations, the KV cache and the runtime itself. */
const HEADROOM = 512 * 1024 ** 2;

/** ONNX Runtime's initial wasm memory (256 pages of 64 KiB): the heap with no weights. */
const RUNTIME_HEAP_BYTES = 16 * 1024 ** 2;

/**
 * How the heap grows (Emscripten's policy in onnxruntime-web 1.30's glue):
 * to at most 1.2× the size needed, and never more than 96 MiB past it.
 */
const GROWTH = { factor: 1.2, capBytes: 96 * 1024 ** 2 } as const;

/**
 * The heap after loading: the runtime's initial heap plus the resident
 * weights, grown by at most one step past that. Measured with
 * `tools/bench/wasm_heap.ts` (ONNX Runtime's `WebAssembly.Memory` size after
 * `loadModel`, identical over 3 runs each), heap ÷ (16 MiB + resident bytes):
 * SmolVLM-256M (synthesized) int8 248.2 MiB → 1.04; int8 with the embedding
 * session 297.9 MiB → 1.12; q4 re-packed to int8 274.2 MiB → 1.15 (the same
 * resident bytes as int8: the re-pack stores an int8 value per weight, so
 * 4-bit files grow ~1.6× once loaded); q4 re-packed with the embedding
 * session 347.7 MiB → 1.00; q4 kept as MatMulNBits 181.8 MiB → 1.11; the
 * shipped tiny model 27.8 MiB → 1.08; the test fixture tiny-idefics3 (0.4 MB)
 * 16.0 MiB, the initial heap. Every one is within one growth step.
 */
export function wasmHeapBytes(residentBytes: number): number {
  const needed = RUNTIME_HEAP_BYTES + residentBytes;
  return Math.ceil(needed + Math.min((GROWTH.factor - 1) * needed, GROWTH.capBytes));
}

/** The wasm backend's memory estimate for a plan. */
export interface WasmMemoryEstimate {
  /** Weight bytes of the planned files, in their stored dtypes. */
  weightBytes: number;
  /**
   * Weight bytes the sessions hold: 4-bit matmuls as the int8 they are re-packed
   * to, the LM head as its own matmul, the embedding table only with `embedding: "session"`.
   */
  residentBytes: number;
  /** Estimated size of ONNX Runtime's heap after loading. */
  heapBytes: number;
  /**
   * The largest file's weights, held once in JS while its session opens (graph constants
   * such as rotary tables come on top: 3.6 MB of SmolVLM-256M's 138 MB int8 decoder).
   */
  loadCopyBytes: number;
  /** The load peak: heap + that copy + headroom for a request. */
  peakBytes: number;
  /** Whether the heap plus headroom stays under {@linkcode WASM_MEMORY_LIMIT}. */
  fits: boolean;
  /** Whether the resident weights plus headroom alone stay under it (if not, loading fails). */
  possible: boolean;
}

/** Load options the estimate depends on (those of `loadModel`, same defaults). */
export interface WasmMemoryOptions {
  /** `table` (default): the embedding table is read from its file, outside the heap. */
  embedding?: "table" | "session";
  /** `auto` (default) re-packs 4-bit matmuls to int8 on wasm; `original` keeps them. */
  q4Kernel?: Q4Kernel;
  /** The modules' dtypes, when not those of the plan's files (a grid profile's choice). */
  dtypes?: { encoder: Dtype; projector: Dtype; decoder: Dtype };
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

/** Whether `dtype`'s matmuls are 4-bit (MatMulNBits, MatMulBnb4): what the re-pack covers. */
const FOUR_BIT: readonly Dtype[] = ["q4", "q4f16", "bnb4"];

/** Bytes of `params` held by a session: matmuls at `matmulBits`, the rest as stored. */
function heldBytes(params: ModuleParams, dtype: Dtype, matmulBits: number): number {
  const storage = DTYPE_STORAGE[dtype];
  const used = params.total === 0 ? 0 : (params.total - params.unused) / params.total;
  const bits = params.matmul * used * matmulBits + params.embedding * storage.embeddingBits +
    params.other * used * storage.otherBits;
  return Math.round(bits / 8);
}

/** One module's weights: held by its session, and held in JS while that session opens. */
interface ModuleBytes {
  resident: number;
  copy: number;
}

/** What each wasm session holds for `plan` (see {@linkcode wasmResidentBytes}). */
function moduleBytes(plan: Plan, options: WasmMemoryOptions): ModuleBytes[] {
  const dtypes = options.dtypes ?? planModuleDtypes(plan);
  const repack = repacksQ4(options.q4Kernel, "wasm");
  const { encoder, projector, decoder } = plan.params;
  const { hidden, vocab, tiedEmbeddings } = plan.spec.decoder;
  const language: ModuleParams = {
    ...decoder,
    matmul: decoder.matmul + (tiedEmbeddings ? vocab * hidden : 0),
    embedding: 0,
  };
  const table: ModuleParams = {
    total: decoder.embedding,
    matmul: 0,
    embedding: decoder.embedding,
    other: 0,
    unused: 0,
  };
  const held = (params: ModuleParams, dtype: Dtype): ModuleBytes => {
    const stored = heldBytes(params, dtype, DTYPE_STORAGE[dtype].matmulBits);
    // A table has no matmul to re-pack.
    if (!repack || !FOUR_BIT.includes(dtype) || params.matmul === 0) {
      return { resident: stored, copy: stored };
    }
    // Re-packed: the new int8 bytes, and the original data file still passed beside them.
    const resident = heldBytes(params, dtype, 8);
    return { resident, copy: resident + stored };
  };
  const session = (options.embedding ?? "table") === "session";
  return [
    held(encoder, dtypes.encoder),
    held(projector, dtypes.projector),
    held(language, dtypes.decoder),
    session ? held(table, dtypes.decoder) : { resident: 0, copy: 0 },
  ];
}

/**
 * Weight bytes the wasm sessions hold for `plan`: each module with its 4-bit
 * matmuls at 8 bits when they are re-packed (an int8 value per weight; the
 * per-column scales are below 0.1 %), the decoder with its LM head even when
 * tied (exports store it as a matmul of its own), and the embedding table
 * only when `embedding` is `session`.
 */
export function wasmResidentBytes(plan: Plan, options: WasmMemoryOptions = {}): number {
  return moduleBytes(plan, options).reduce((sum, m) => sum + m.resident, 0);
}

/** Estimates the wasm backend's heap and load peak for the plan's files and dtypes. */
export function wasmMemoryEstimate(
  plan: Plan,
  options: WasmMemoryOptions = {},
): WasmMemoryEstimate {
  const [vision, projector, ...rest] = moduleBytes(plan, options);
  // A fused projector is stored in the vision file: one file, one copy.
  const files = layoutOf(plan.spec).roles.projector === null
    ? [
      { resident: vision.resident + projector.resident, copy: vision.copy + projector.copy },
      ...rest,
    ]
    : [vision, projector, ...rest];
  const residentBytes = files.reduce((sum, f) => sum + f.resident, 0);
  const heapBytes = wasmHeapBytes(residentBytes);
  const loadCopyBytes = Math.max(...files.map((f) => f.copy));
  return {
    weightBytes: weightBytes(plan.params, options.dtypes ?? planModuleDtypes(plan)).total,
    residentBytes,
    heapBytes,
    loadCopyBytes,
    peakBytes: heapBytes + loadCopyBytes + HEADROOM,
    fits: heapBytes + HEADROOM <= WASM_MEMORY_LIMIT,
    possible: residentBytes + HEADROOM <= WASM_MEMORY_LIMIT,
  };
}
