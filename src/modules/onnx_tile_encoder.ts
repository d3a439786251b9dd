/**
 * A modular `encoder` session (vision tower alone): `pixel_values`
 * [N, 3, T, T] → `features` [N, P, D]. Its projector is a separate session.
 *
 * @module
 */
import type { OrtApi, OrtSession } from "../runtime/backend.ts";
import { tensorRows } from "../runtime/float16.ts";
import type { Encoder, FeatureMatrix, PixelBatch } from "./types.ts";

/** Encoder backed by a modular encoder session. */
export class OnnxTileEncoder implements Encoder {
  readonly #session: OrtSession;
  readonly #ort: OrtApi;

  /** Wraps an open session. */
  constructor(session: OrtSession, ort: OrtApi) {
    this.#session = session;
    this.#ort = ort;
  }

  /** Runs every tile in one call; rows are tiles × patches. */
  async encode(pixels: PixelBatch): Promise<FeatureMatrix> {
    const { tiles, size } = pixels;
    const values = new this.#ort.Tensor("float32", pixels.data, [tiles, 3, size, size]);
    const out = await this.#session.run({ pixel_values: values });
    return tensorRows(out.features);
  }
}
