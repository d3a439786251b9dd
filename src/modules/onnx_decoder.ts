/**
 * The `decoder_model_merged` session with the Hugging Face KV-cache contract:
 * `inputs_embeds` [1, S, H] (float32, or float16 as in published fp16 files), `attention_mask` i64 [1, past+S],
 * `position_ids` i64 [1, S] (0-based, continuing the cache), and
 * `past_key_values.{i}.key|value` [1, kvHeads, past, headDim] in, `logits` and
 * `present.{i}.key|value` out. The cache element type (float32 or float16)
 * comes from the session metadata.
 *
 * @module
 */
import type { OrtApi, OrtSession, OrtTensor } from "../runtime/backend.ts";
import { floatInput, floatValues, inputElementType } from "../runtime/float16.ts";
import type { Decoder, DecoderStep, FeatureMatrix, KvCache } from "./types.ts";

/** Shape facts the decoder needs from the Plan. */
export interface DecoderGeometry {
  /** Decoder layers. */
  layers: number;
  /** Key/value heads. */
  kvHeads: number;
  /** Head dimension. */
  headDim: number;
  /** Element type of the cache tensors. */
  cacheType: "float32" | "float16";
}

type CacheArray = Float32Array | Uint16Array;

/** KV cache held as ONNX Runtime tensors, one key and one value per layer. */
class OrtKvCache implements KvCache {
  readonly length: number;
  /** `past_key_values.{i}.key|value` → tensor. */
  readonly tensors: Record<string, OrtTensor>;
  readonly #ort: OrtApi;
  readonly #geometry: DecoderGeometry;

  constructor(
    ort: OrtApi,
    geometry: DecoderGeometry,
    length: number,
    tensors: Record<string, OrtTensor>,
  ) {
    this.#ort = ort;
    this.#geometry = geometry;
    this.length = length;
    this.tensors = tensors;
  }

  truncate(length: number): KvCache {
    if (length > this.length || length < 0) {
      throw new RangeError(`cannot truncate a ${this.length}-token cache to ${length}`);
    }
    if (length === this.length) return this;
    const { kvHeads, headDim, cacheType } = this.#geometry;
    const tensors: Record<string, OrtTensor> = {};
    for (const [name, tensor] of Object.entries(this.tensors)) {
      const source = tensor.data as CacheArray;
      const target = cacheType === "float16"
        ? new Uint16Array(kvHeads * length * headDim)
        : new Float32Array(kvHeads * length * headDim);
      // Layout [1, heads, tokens, headDim]: keep the first `length` tokens of every head.
      for (let h = 0; h < kvHeads; h++) {
        const from = h * this.length * headDim;
        target.set(source.subarray(from, from + length * headDim), h * length * headDim);
      }
      tensors[name] = new this.#ort.Tensor(cacheType, target as never, [
        1,
        kvHeads,
        length,
        headDim,
      ]);
    }
    return new OrtKvCache(this.#ort, this.#geometry, length, tensors);
  }
}

/** Decoder backed by a merged decoder session. */
export class OnnxDecoder implements Decoder {
  readonly #session: OrtSession;
  readonly #ort: OrtApi;
  readonly #geometry: DecoderGeometry;
  readonly #embedsType: string;

  /** Wraps an open session. */
  constructor(session: OrtSession, ort: OrtApi, geometry: DecoderGeometry) {
    this.#session = session;
    this.#ort = ort;
    this.#geometry = geometry;
    this.#embedsType = inputElementType(session, "inputs_embeds");
  }

  /** Zero-length cache tensors `[1, kvHeads, 0, headDim]`. */
  emptyCache(): KvCache {
    const { layers, kvHeads, headDim, cacheType } = this.#geometry;
    const tensors: Record<string, OrtTensor> = {};
    for (let i = 0; i < layers; i++) {
      for (const part of ["key", "value"]) {
        const data = cacheType === "float16" ? new Uint16Array(0) : new Float32Array(0);
        tensors[`past_key_values.${i}.${part}`] = new this.#ort.Tensor(
          cacheType,
          data as never,
          [1, kvHeads, 0, headDim],
        );
      }
    }
    return new OrtKvCache(this.#ort, this.#geometry, 0, tensors);
  }

  /** One forward pass over the new rows. */
  async step(embeds: FeatureMatrix, cache: KvCache): Promise<DecoderStep> {
    const past = cache as OrtKvCache;
    const rows = embeds.rows;
    const total = past.length + rows;
    const positions = new BigInt64Array(rows);
    for (let i = 0; i < rows; i++) positions[i] = BigInt(past.length + i);
    const feeds: Record<string, OrtTensor> = {
      ...past.tensors,
      inputs_embeds: floatInput(this.#ort, this.#embedsType, embeds.data, [1, rows, embeds.cols]),
      attention_mask: new this.#ort.Tensor("int64", new BigInt64Array(total).fill(1n), [1, total]),
      position_ids: new this.#ort.Tensor("int64", positions, [1, rows]),
    };
    const out = await this.#session.run(feeds);
    const present: Record<string, OrtTensor> = {};
    for (let i = 0; i < this.#geometry.layers; i++) {
      for (const part of ["key", "value"]) {
        present[`past_key_values.${i}.${part}`] = out[`present.${i}.${part}`];
      }
    }
    const logits = out.logits;
    const vocab = logits.dims[logits.dims.length - 1];
    // Published exports return every position's logits; vlmkit's builder only the last one.
    const logitRows = logits.dims[logits.dims.length - 2];
    return {
      logits: floatValues(logits, (logitRows - 1) * vocab, logitRows * vocab),
      cache: new OrtKvCache(this.#ort, this.#geometry, total, present),
    };
  }
}
