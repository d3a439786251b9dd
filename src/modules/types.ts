/**
 * The module interfaces a pipeline is composed of. Each is one ONNX session
 * in practice, but the pipeline only sees these shapes, so the hf-idefics3
 * layout (encoder and connector fused) and the modular layout (separate
 * files) run through the same generation code.
 *
 * @module
 */

/** A row-major float32 matrix. */
export interface FeatureMatrix {
  /** Row count (tokens). */
  rows: number;
  /** Row width. */
  cols: number;
  /** `rows · cols` values. */
  data: Float32Array;
}

/** Normalised tiles ready for a vision tower. */
export interface PixelBatch {
  /** Number of tiles. */
  tiles: number;
  /** Tile side in pixels. */
  size: number;
  /** Planar float32 `[tiles, 3, size, size]`. */
  data: Float32Array;
}

/** Vision tower: tiles → features (already projected when the export fuses the connector). */
export interface Encoder {
  /** Encodes all tiles in one call; rows are tiles in order, tokens within a tile in order. */
  encode(pixels: PixelBatch): Promise<FeatureMatrix>;
}

/** Connector: encoder features → decoder-width image tokens. */
export interface Projector {
  /** Projects features; rows out = tokens per tile × tiles. */
  project(features: FeatureMatrix): Promise<FeatureMatrix>;
}

/** Token embedding table. */
export interface Embedder {
  /** One row of width `hidden` per id. */
  embed(ids: readonly number[]): Promise<FeatureMatrix>;
}

/** Keys and values of all layers for the tokens seen so far. */
export interface KvCache {
  /** Tokens held. */
  readonly length: number;
  /** Returns a cache holding only the first `length` tokens (for prefix reuse). */
  truncate(length: number): KvCache;
}

/** The output of one decoder step. */
export interface DecoderStep {
  /** Logits of the last position, float32, length `vocab`. */
  logits: Float32Array;
  /** The cache including this step's tokens. */
  cache: KvCache;
}

/** Causal language model over input embeddings with a KV cache. */
export interface Decoder {
  /** An empty cache; `reserve` is how many tokens it will likely hold (a sizing hint). */
  emptyCache(reserve?: number): KvCache;
  /** Runs `embeds` (rows = new tokens) after `cache`; positions continue from `cache.length`. */
  step(embeds: FeatureMatrix, cache: KvCache): Promise<DecoderStep>;
}

/** The identity projector of layouts whose vision file already contains the connector. */
export const FUSED_PROJECTOR: Projector = {
  project: (features) => Promise.resolve(features),
};
