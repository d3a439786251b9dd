/**
 * A modular `encoder` session (vision tower alone): `pixel_values`
 * [N, 3, T, T] → `features` [N, P, D]. Its projector is a separate session.
 *
 * @module
 */
import type { OrtApi, OrtSession } from "../runtime/backend.ts";
import { floatInput, inputElementType, tensorRows } from "../runtime/float16.ts";
import { encodeInChunks } from "./tile_chunks.ts";
import type { Encoder, FeatureMatrix, PixelBatch } from "./types.ts";

/** Encoder backed by a modular encoder session. */
export class OnnxTileEncoder implements Encoder {
  readonly #session: OrtSession;
  readonly #ort: OrtApi;
  readonly #tilesPerRun: number;

  /** Wraps an open session that is run on at most `tilesPerRun` tiles per call. */
  constructor(session: OrtSession, ort: OrtApi, tilesPerRun: number) {
    this.#session = session;
    this.#ort = ort;
    this.#tilesPerRun = tilesPerRun;
  }

  /** Encodes the tiles in chunks (see `tile_chunks.ts`); rows are tiles × patches. */
  encode(pixels: PixelBatch): Promise<FeatureMatrix> {
    return encodeInChunks(pixels, this.#tilesPerRun, (part) => this.#run(part));
  }

  async #run(pixels: PixelBatch): Promise<FeatureMatrix> {
    const { tiles, size } = pixels;
    const type = inputElementType(this.#session, "pixel_values");
    const values = floatInput(this.#ort, type, pixels.data, [tiles, 3, size, size]);
    const out = await this.#session.run({ pixel_values: values });
    return tensorRows(out.features);
  }
}
