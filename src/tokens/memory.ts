/**
 * Memory accounting: KV-cache bytes and weight bytes per dtype.
 *
 * @module
 */
import type { ModuleParams, ParamCounts } from "../spec/plan.ts";
import type { DecoderSpec, Dtype } from "../spec/types.ts";

/** Element type of the KV cache for a decoder file of `dtype`: fp16 files keep a float16 cache. */
export function kvCacheDtype(decoderDtype: Dtype): "float32" | "float16" {
  return decoderDtype === "fp16" || decoderDtype === "q4f16" ? "float16" : "float32";
}

/** KV-cache bytes per token: keys and values of every layer, `kvHeads · headDim` wide. */
export function kvBytesPerToken(decoder: DecoderSpec, cacheDtype: "float32" | "float16"): number {
  const bytes = cacheDtype === "float16" ? 2 : 4;
  return 2 * decoder.layers * decoder.kvHeads * decoder.headDim * bytes;
}

/** How one dtype stores each kind of parameter. */
export interface DtypeStorage {
  /** Bits per matmul weight, scales and zero points included. */
  matmulBits: number;
  /** Bits per embedding weight. */
  embeddingBits: number;
  /** Bits per remaining (float) parameter. */
  otherBits: number;
}

/**
 * Storage per dtype, as the published exports and vlmkit's builder lay it out:
 * 8-bit formats quantize matmuls and embeddings per channel (scale overhead
 * ignored, < 0.1 %); q4 uses MatMulNBits blocks of 32 with an fp32 scale and a
 * 4-bit zero point (5.125 bits); q4f16 the same with fp16 scales and fp16
 * floats; bnb4 blocks of 64 with an fp32 absmax (4.5 bits).
 */
export const DTYPE_STORAGE: Readonly<Record<Dtype, DtypeStorage>> = {
  fp32: { matmulBits: 32, embeddingBits: 32, otherBits: 32 },
  fp16: { matmulBits: 16, embeddingBits: 16, otherBits: 16 },
  int8: { matmulBits: 8, embeddingBits: 8, otherBits: 32 },
  uint8: { matmulBits: 8, embeddingBits: 8, otherBits: 32 },
  q8: { matmulBits: 8, embeddingBits: 8, otherBits: 32 },
  q4: { matmulBits: 4 + 32 / 32 + 4 / 32, embeddingBits: 32, otherBits: 32 },
  q4f16: { matmulBits: 4 + 16 / 32 + 4 / 32, embeddingBits: 16, otherBits: 16 },
  bnb4: { matmulBits: 4 + 32 / 64, embeddingBits: 32, otherBits: 32 },
};

/**
 * Bytes of one module's weights in `dtype`. Unused parameters are left out:
 * an ONNX export keeps only what is on the inference path.
 */
export function moduleWeightBytes(params: ModuleParams, dtype: Dtype): number {
  const storage = DTYPE_STORAGE[dtype];
  // Unused parameters are always float tensors of whole layers; take them
  // proportionally out of the matmul and other parts.
  const used = params.total - params.unused;
  const scale = params.total === 0 ? 0 : used / params.total;
  const bits = params.matmul * scale * storage.matmulBits +
    params.embedding * storage.embeddingBits +
    params.other * scale * storage.otherBits;
  return Math.round(bits / 8);
}

/** Weight bytes per module and in total. */
export interface WeightBytes {
  /** Vision tower. */
  encoder: number;
  /** Projector. */
  projector: number;
  /** Decoder (embeddings and LM head included). */
  decoder: number;
  /** Sum. */
  total: number;
}

/** Dtype per module; a single dtype applies to all three. */
export type ModuleDtypes = Dtype | { encoder: Dtype; projector: Dtype; decoder: Dtype };

/** Weight bytes of a variant in the given dtype(s). */
export function weightBytes(params: ParamCounts, dtypes: ModuleDtypes): WeightBytes {
  const pick = typeof dtypes === "string"
    ? { encoder: dtypes, projector: dtypes, decoder: dtypes }
    : dtypes;
  const encoder = moduleWeightBytes(params.encoder, pick.encoder);
  const projector = moduleWeightBytes(params.projector, pick.projector);
  const decoder = moduleWeightBytes(params.decoder, pick.decoder);
  return { encoder, projector, decoder, total: encoder + projector + decoder };
}
