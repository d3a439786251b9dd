/**
 * The `decoder_model_merged` session with the Hugging Face KV-cache contract:
 * `inputs_embeds` [1, S, H] (float32, or float16 as in published fp16 files), `attention_mask` i64 [1, past+S],
 * `position_ids` i64 [1, S] (0-based, continuing the cache), and
 * `past_key_values.{i}.key|value` [1, kvHeads, past, headDim] in, `logits` and
 * `present.{i}.key|value` out. The cache element type (float32 or float16)
 * comes from the session metadata.
 *
 * Graphs that declare GroupQueryAttention's present length
 * ({@linkcode SHARED_KV_AXIS}) run, on a backend that binds JS memory without
 * copying, with the cache in shared buffers instead ({@linkcode SharedKvBuffer}).
 * On wasm, graphs rewritten to return only the new rows ({@linkcode KV_ROWS_AXIS})
 * keep the cache in the same buffers, fed whole as past, and append the rows
 * after each run.
 *
 * @module
 */
import type { OrtApi, OrtSession, OrtTensor } from "../runtime/backend.ts";
import { floatInput, floatValues, inputElementType } from "../runtime/float16.ts";
import type { Decoder, DecoderStep, FeatureMatrix, KvCache } from "./types.ts";
import { SharedKvBuffer, type SharedKvView } from "./shared_kv_cache.ts";
import { type CacheArray, cacheBits, leadingRows, writeRows } from "./kv_rows.ts";
export { KV_ROWS_AXIS, SHARED_KV_AXIS } from "./kv_buffer_axis.ts";

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
  /**
   * `shared`: the cache lives in buffers GroupQueryAttention appends to in
   * place (the graph must declare {@linkcode SHARED_KV_AXIS} and the backend
   * bind preallocated outputs without copying: onnxruntime-node). `rows`: the
   * same buffers fed as past, the graph's present outputs being only the new
   * rows ({@linkcode KV_ROWS_AXIS}), written into the buffers after the run
   * (onnxruntime-web, which copies every output out of its heap). Default
   * `copy`: a new present tensor per step (the Hugging Face contract).
   */
  kvBuffer?: "shared" | "rows" | "copy";
  /** Most tokens the model attends over; bounds the shared buffers (default 8192). */
  contextLength?: number;
  /**
   * With `rows`: a pass of more than twice this many new rows runs as chunks
   * of at most this many, each fed the rows before it as an exact-length past
   * (default: one pass). For graphs whose attention is plain ops
   * ({@linkcode PREFILL_CHUNK}). GroupQueryAttention attends causally by
   * itself, and fed such a past for a multi-row pass, the float16 form (GQA
   * between Casts) gave wrong ids. Graphs that quantize activations with one
   * scale per run keep one pass too: a chunk's scale is not the prompt's.
   */
  prefillChunk?: number;
}

/**
 * Rows of a `rows`-form prompt chunk. The rewritten attention scores every new
 * row against every fed key as one tensor per layer, [heads, rows, keys]: at
 * 900 prompt tokens that is 29 MB a layer, out of cache, for half of them
 * masked. In chunks, each chunk scores only the keys up to its own rows, and
 * its tensor stays small; up to twice this many rows run as one pass, which
 * was as fast or faster there (SmolVLM-256M, native ×2, 900 tokens: q4 ~690 →
 * ~790 tok/s; int8 chunked by force ~1245 → ~1400, see `prefillChunk` for why
 * it is not by default).
 */
export const PREFILL_CHUNK = 256;

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
      // Layout [1, heads, tokens, headDim]: keep the first `length` tokens of every head.
      const source = cacheBits(tensor.data, cacheType);
      const target = leadingRows(source, this.length, length, kvHeads, headDim);
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
  readonly #shared: SharedKvBuffer | undefined;
  /** Ones for `attention_mask`, fed as a prefix view (no per-step array). */
  #ones = new BigInt64Array(0);
  /** `position_ids` of a one-token step, refilled in place. */
  readonly #position = new BigInt64Array(1);
  readonly #positionTensor: OrtTensor;

  /** Wraps an open session. */
  constructor(session: OrtSession, ort: OrtApi, geometry: DecoderGeometry) {
    this.#session = session;
    this.#ort = ort;
    this.#geometry = geometry;
    this.#embedsType = inputElementType(session, "inputs_embeds");
    this.#positionTensor = new ort.Tensor("int64", this.#position, [1, 1]);
    this.#shared = geometry.kvBuffer === "shared" || geometry.kvBuffer === "rows"
      ? new SharedKvBuffer(ort, geometry, geometry.contextLength ?? 8192)
      : undefined;
  }

  /** Whether the cache lives in shared buffers appended to in place. */
  get sharesKvBuffer(): boolean {
    return this.#geometry.kvBuffer === "shared";
  }

  /** How the cache is held: `shared`, `rows` or `copy` (see {@linkcode DecoderGeometry}). */
  get kvBuffer(): "shared" | "rows" | "copy" {
    return this.#geometry.kvBuffer ?? "copy";
  }

  /**
   * An empty cache: zero-length tensors `[1, kvHeads, 0, headDim]`, or with
   * shared buffers a view with room for `reserve` tokens (they grow by
   * doubling past it); any older cache of this decoder goes stale then.
   */
  emptyCache(reserve = 0): KvCache {
    if (this.#shared) return this.#shared.empty(reserve);
    return new OrtKvCache(this.#ort, this.#geometry, 0, this.#zeroRows());
  }

  /** Zero-length past tensors `[1, kvHeads, 0, headDim]` for every layer. */
  #zeroRows(): Record<string, OrtTensor> {
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
    return tensors;
  }

  /** One forward pass over the new rows. */
  async step(embeds: FeatureMatrix, cache: KvCache): Promise<DecoderStep> {
    if (this.#geometry.kvBuffer === "rows") {
      return await this.#rowsStep(embeds, cache as SharedKvView);
    }
    if (this.#shared) return await this.#sharedStep(embeds, cache as SharedKvView);
    const past = cache as OrtKvCache;
    const out = await this.#session.run({ ...past.tensors, ...this.#smallInputs(embeds, past) });
    const present: Record<string, OrtTensor> = {};
    for (let i = 0; i < this.#geometry.layers; i++) {
      for (const part of ["key", "value"]) {
        present[`past_key_values.${i}.${part}`] = out[`present.${i}.${part}`];
      }
    }
    return {
      logits: lastLogits(out.logits),
      cache: new OrtKvCache(this.#ort, this.#geometry, past.length + embeds.rows, present),
    };
  }

  /** GQA appends the new rows to the buffers it is fed, bound as its outputs too. */
  async #sharedStep(embeds: FeatureMatrix, past: SharedKvView): Promise<DecoderStep> {
    const buffer = this.#shared!;
    const feeds = this.#smallInputs(embeds, past);
    const next = buffer.begin(past, embeds.rows);
    const fetches: Record<string, OrtTensor | null> = { logits: null };
    for (let i = 0; i < this.#geometry.layers; i++) {
      for (const part of ["key", "value"]) {
        const tensor = buffer.tensors[`past_key_values.${i}.${part}`];
        feeds[`past_key_values.${i}.${part}`] = tensor;
        fetches[`present.${i}.${part}`] = tensor;
      }
    }
    const out = await this.#session.run(feeds, fetches);
    return { logits: lastLogits(out.logits), cache: next };
  }

  /**
   * With `prefillChunk` set, more than twice that many new rows (a long prompt)
   * run in chunks of at most that many, each chunk fed the rows before it as a
   * past of their exact length; only the last chunk's logits are kept.
   */
  async #rowsStep(embeds: FeatureMatrix, past: SharedKvView): Promise<DecoderStep> {
    const most = this.#geometry.prefillChunk;
    if (most === undefined || embeds.rows <= 2 * most) {
      return await this.#rowsPass(embeds, past, past.length > 0);
    }
    // Balanced: 900 rows run as 4 × 225, not 3 × 256 + 132.
    const chunk = Math.ceil(embeds.rows / Math.ceil(embeds.rows / most));
    let step: DecoderStep | undefined;
    let view = past;
    for (let start = 0; start < embeds.rows; start += chunk) {
      const rows = Math.min(chunk, embeds.rows - start);
      const part: FeatureMatrix = {
        rows,
        cols: embeds.cols,
        data: embeds.data.subarray(start * embeds.cols, (start + rows) * embeds.cols),
      };
      step = await this.#rowsPass(part, view, false);
      view = step.cache as SharedKvView;
    }
    return step!;
  }

  /**
   * One run: the graph returns the new rows, appended to the buffers after it.
   * `whole`: the buffers go in whole as past (a decode step: no copy, the
   * capacity's rows past the valid length masked); otherwise the valid rows go
   * in as a past of their exact length (a prompt chunk: its scores then cover
   * only the rows before it, not the capacity).
   */
  async #rowsPass(embeds: FeatureMatrix, past: SharedKvView, whole: boolean): Promise<DecoderStep> {
    const buffer = this.#shared!;
    const feeds = this.#smallInputs(embeds, past);
    const next = buffer.begin(past, embeds.rows);
    const exact = whole ? undefined : this.#validRows(past.length);
    for (const name of Object.keys(buffer.tensors)) {
      feeds[name] = exact?.[name] ?? buffer.tensors[name];
    }
    const out = await this.#session.run(feeds);
    const { layers, kvHeads, headDim, cacheType } = this.#geometry;
    for (let i = 0; i < layers; i++) {
      for (const part of ["key", "value"]) {
        writeRows(
          cacheBits(buffer.tensors[`past_key_values.${i}.${part}`].data, cacheType),
          buffer.capacity,
          past.length,
          cacheBits(out[`present.${i}.${part}`].data, cacheType),
          kvHeads,
          headDim,
        );
      }
    }
    return { logits: lastLogits(out.logits), cache: next };
  }

  /** The buffers' first `length` rows of every head as `[1, kvHeads, length, headDim]` tensors. */
  #validRows(length: number): Record<string, OrtTensor> {
    if (length === 0) return this.#zeroRows();
    const buffer = this.#shared!;
    const { kvHeads, headDim, cacheType } = this.#geometry;
    const tensors: Record<string, OrtTensor> = {};
    for (const [name, tensor] of Object.entries(buffer.tensors)) {
      const rows = leadingRows(
        tensor.data as CacheArray,
        buffer.capacity,
        length,
        kvHeads,
        headDim,
      );
      tensors[name] = new this.#ort.Tensor(cacheType, rows as never, [1, kvHeads, length, headDim]);
    }
    return tensors;
  }

  /** `inputs_embeds`, `attention_mask` (ones over past + new) and `position_ids`. */
  #smallInputs(embeds: FeatureMatrix, past: KvCache): Record<string, OrtTensor> {
    const rows = embeds.rows;
    const total = past.length + rows;
    if (this.#ones.length < total) {
      this.#ones = new BigInt64Array(Math.max(total, 2 * this.#ones.length)).fill(1n);
    }
    let positions = this.#positionTensor;
    if (rows === 1) this.#position[0] = BigInt(past.length);
    else {
      const ids = new BigInt64Array(rows);
      for (let i = 0; i < rows; i++) ids[i] = BigInt(past.length + i);
      positions = new this.#ort.Tensor("int64", ids, [1, rows]);
    }
    return {
      inputs_embeds: floatInput(this.#ort, this.#embedsType, embeds.data, [1, rows, embeds.cols]),
      attention_mask: new this.#ort.Tensor("int64", this.#ones.subarray(0, total), [1, total]),
      position_ids: positions,
    };
  }
}

/** The last position's logits: published exports return every position's, the builder's one. */
function lastLogits(logits: OrtTensor): Float32Array {
  const vocab = logits.dims[logits.dims.length - 1];
  const rows = logits.dims[logits.dims.length - 2];
  return floatValues(logits, (rows - 1) * vocab, rows * vocab);
}
