/**
 * A modular `projector` session: `features` [N, P, D] → `image_features`
 * [N·tokens, H] or [N, tokens, H] (pixel shuffle, LDP, LDPv2 or MLP inside).
 *
 * @module
 */
import type { OrtApi, OrtSession } from "../runtime/backend.ts";
import { floatInput, inputElementType } from "../runtime/float16.ts";
import { featureRows } from "./feature_rows.ts";
import type { FeatureMatrix, Projector } from "./types.ts";

/** Projector backed by a modular projector session. */
export class OnnxProjector implements Projector {
  readonly #session: OrtSession;
  readonly #ort: OrtApi;
  readonly #patchesPerTile: number;
  readonly #tokensPerTile: number;

  /**
   * Wraps an open session; `patchesPerTile` splits the encoder rows back into tiles,
   * each of which must come out as `tokensPerTile` rows.
   */
  constructor(session: OrtSession, ort: OrtApi, patchesPerTile: number, tokensPerTile: number) {
    this.#session = session;
    this.#ort = ort;
    this.#patchesPerTile = patchesPerTile;
    this.#tokensPerTile = tokensPerTile;
  }

  /** Projects all tiles in one call. */
  async project(features: FeatureMatrix): Promise<FeatureMatrix> {
    const tiles = features.rows / this.#patchesPerTile;
    const type = inputElementType(this.#session, "features");
    const input = floatInput(this.#ort, type, features.data, [
      tiles,
      this.#patchesPerTile,
      features.cols,
    ]);
    const out = await this.#session.run({ features: input });
    return featureRows(out.image_features, tiles, this.#tokensPerTile, "projector");
  }
}
