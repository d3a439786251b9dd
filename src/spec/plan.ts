/**
 * The `Plan`: everything derivable from a spec without I/O, computed once by
 * `resolve()`. Runtime, builder and CLI read shapes and counts from here
 * instead of recomputing them.
 *
 * @module
 */
import type { Dtype, ProjectorSpec, VariantSpec } from "./types.ts";

/** Parameters of one module, split the way quantization treats them. */
export interface ModuleParams {
  /** All parameters of the module as published (unused tensors included). */
  total: number;
  /** Weights of matrix multiplications (Linear layers, LM head): what int8/q4 quantize. */
  matmul: number;
  /** Embedding tables (token embeddings): quantized only by the 8-bit formats. */
  embedding: number;
  /** Everything else (convolutions, position tables, norms, biases): kept in float. */
  other: number;
  /** Parameters stored but not on the inference path (layers after the feature layer, unused norms). */
  unused: number;
}

/** Parameter counts per module. */
export interface ParamCounts {
  /** Vision tower. */
  encoder: ModuleParams;
  /** Connector / projector. */
  projector: ModuleParams;
  /** Language decoder, token embeddings and LM head included. */
  decoder: ModuleParams;
  /** Sum of the three totals. */
  total: number;
}

/** One ONNX file the variant needs. */
export interface PlannedFile {
  /** Module name from the spec's artifacts. */
  module: string;
  /** Path inside the model folder, dtype suffix included. */
  path: string;
  /** Weight format. */
  dtype: Dtype;
}

/** Resolved shapes and counts of a valid variant. */
export interface Plan {
  /** The validated spec this plan was resolved from. */
  spec: VariantSpec;
  /** Vision tower geometry. */
  encoder: {
    /** Patch grid side (imageSize / patchSize). */
    patchGridSide: number;
    /** Patch tokens per tile (no class token). */
    patchesPerTile: number;
    /** Tokens inside the encoder, class token included for CLIP. */
    sequenceLength: number;
    /** Width of the features handed to the projector. */
    featureDim: number;
  };
  /** Projector geometry. */
  projector: {
    /** Projector kind. */
    kind: ProjectorSpec["kind"];
    /** Linear downsample factor of the token grid (r for pixel shuffle, 2 for LDP). */
    downsample: number;
    /** Width of one projector input row (D·r² for pixel shuffle). */
    inputDim: number;
    /** Width of one output row (the decoder hidden size). */
    outputDim: number;
  };
  /** Decoder tokens per tile or video frame. */
  tokensPerTile: number;
  /** Largest rows or cols of a split image. */
  maxGridSide: number;
  /** Worst-case tiles for one image (grid + global). */
  maxTilesPerImage: number;
  /** Worst-case image tokens for one image. */
  maxImageTokensPerImage: number;
  /** Decoder memory facts. */
  decoder: {
    /** Context length. */
    contextLength: number;
    /** Element type of the KV cache for the decoder's dtype. */
    kvCacheDtype: "float32" | "float16";
    /** KV-cache bytes per token (all layers, keys and values). */
    kvBytesPerToken: number;
  };
  /** Parameter counts. */
  params: ParamCounts;
  /** ONNX files to load, in module order. */
  files: PlannedFile[];
}
