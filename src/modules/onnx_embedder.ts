/**
 * The `embed_tokens` session: `input_ids` int64 [1, S] → `inputs_embeds` [1, S, H].
 * Negative ids are image placeholders (MobileVLM's −200): they embed as id 0
 * and are overwritten by image features afterwards.
 *
 * @module
 */
import type { OrtApi, OrtSession } from "../runtime/backend.ts";
import { floatValues } from "../runtime/float16.ts";
import type { Embedder, FeatureMatrix } from "./types.ts";

/** Embedder backed by an embed_tokens session. */
export class OnnxEmbedder implements Embedder {
  readonly #session: OrtSession;
  readonly #ort: OrtApi;

  /** Wraps an open session. */
  constructor(session: OrtSession, ort: OrtApi) {
    this.#session = session;
    this.#ort = ort;
  }

  /** Embeds `ids`; fp16 tables are widened to float32 so features merge losslessly. */
  async embed(ids: readonly number[]): Promise<FeatureMatrix> {
    const input = new this.#ort.Tensor(
      "int64",
      BigInt64Array.from(ids, (id) => BigInt(Math.max(0, id))),
      [1, ids.length],
    );
    const out = await this.#session.run({ input_ids: input });
    const embeds = out.inputs_embeds;
    const cols = embeds.dims[embeds.dims.length - 1];
    const data = floatValues(embeds);
    return { rows: ids.length, cols, data };
  }
}
