/**
 * The hf-idefics3 `vision_encoder` session: SigLIP and the pixel-shuffle
 * connector fused in one file. Input `pixel_values` [1, N, 3, T, T] and a bool
 * `pixel_attention_mask` [1, N, T, T]; output `image_features` [N·tokens, H] or
 * [N, tokens, H] (the published files' form), flattened to rows either way.
 *
 * @module
 */
import type { OrtApi, OrtSession } from "../runtime/backend.ts";
import { floatInput, inputElementType } from "../runtime/float16.ts";
import { featureRows } from "./feature_rows.ts";
import { encodeInChunks } from "./tile_chunks.ts";
import type { Encoder, FeatureMatrix, PixelBatch } from "./types.ts";

/** Encoder backed by a fused vision_encoder session. */
export class OnnxVisionEncoder implements Encoder {
  readonly #session: OrtSession;
  readonly #ort: OrtApi;
  readonly #tilesPerRun: number;
  readonly #tokensPerTile: number;

  /**
   * Wraps an open session that is run on at most `tilesPerRun` tiles per call and
   * must return `tokensPerTile` feature rows per tile.
   */
  constructor(session: OrtSession, ort: OrtApi, tilesPerRun: number, tokensPerTile: number) {
    this.#session = session;
    this.#ort = ort;
    this.#tilesPerRun = tilesPerRun;
    this.#tokensPerTile = tokensPerTile;
  }

  /** Encodes the tiles in chunks (see `tile_chunks.ts`); rows as one call over all. */
  encode(pixels: PixelBatch): Promise<FeatureMatrix> {
    return encodeInChunks(pixels, this.#tilesPerRun, (part) => this.#run(part));
  }

  async #run(pixels: PixelBatch): Promise<FeatureMatrix> {
    const { tiles, size } = pixels;
    const type = inputElementType(this.#session, "pixel_values");
    const values = floatInput(this.#ort, type, pixels.data, [1, tiles, 3, size, size]);
    // Every pixel of a real tile is valid; padding tiles never reach the encoder.
    const mask = new this.#ort.Tensor(
      "bool",
      new Uint8Array(tiles * size * size).fill(1),
      [1, tiles, size, size],
    );
    const out = await this.#session.run({ pixel_values: values, pixel_attention_mask: mask });
    return featureRows(out.image_features, tiles, this.#tokensPerTile, "vision_encoder");
  }
}
