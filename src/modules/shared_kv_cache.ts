/**
 * The KV cache in one buffer per layer key/value, of a fixed capacity, that
 * ONNX Runtime's GroupQueryAttention reads and appends to in place: each
 * tensor is fed as `past_key_values.{i}.*` and bound as the preallocated
 * `present.{i}.*` output, so GQA sees one pointer for both and writes only
 * the new rows (no per-step present tensor to allocate, clear and fill with
 * the past). Only the native
 * binding (onnxruntime-node) hands JS memory to the kernel as is, and it
 * still copies each output back into a new ArrayBuffer after the run, so the
 * capacity is kept close to the tokens held. That copy costs more than GQA's
 * own copy of the past (native q4 decode 45–52 → 69–76 tok/s at 512 tokens),
 * so by default the buffers are fed whole as past and a step's new rows, the
 * graph's only present outputs, are written into them after the run
 * (kv_rows.ts); appending in place stays for native decoders with external
 * data, whose files ONNX Runtime reads itself.
 *
 * Views share the buffer: a step from a view overwrites the rows after its
 * length, so every view but the newest one (and the ones truncated from it)
 * goes stale, and using a stale view is refused.
 *
 * @module
 */
import type { OrtApi, OrtTensor } from "../runtime/backend.ts";
import type { KvCache } from "./types.ts";

/** Shape of the buffers. */
export interface KvBufferGeometry {
  /** Decoder layers. */
  layers: number;
  /** Key/value heads. */
  kvHeads: number;
  /** Head dimension. */
  headDim: number;
  /** Element type of the cache. */
  cacheType: "float32" | "float16";
}

type CacheArray = Float32Array | Uint16Array;

/** Fewest tokens the buffers grow by. */
const GROWTH_TOKENS = 32;

/** A length over the shared buffer, valid while its generation is the buffer's. */
export class SharedKvView implements KvCache {
  /** Tokens held. */
  readonly length: number;
  /** The buffer's generation this view was made in. */
  readonly generation: number;
  readonly #buffer: SharedKvBuffer;

  /** A view of `length` tokens of `buffer`, made in its generation `generation`. */
  constructor(buffer: SharedKvBuffer, length: number, generation: number) {
    this.#buffer = buffer;
    this.length = length;
    this.generation = generation;
  }

  /** The buffer the view reads. */
  get buffer(): SharedKvBuffer {
    return this.#buffer;
  }

  truncate(length: number): KvCache {
    if (length > this.length || length < 0) {
      throw new RangeError(`cannot truncate a ${this.length}-token cache to ${length}`);
    }
    this.#buffer.assertCurrent(this);
    // The rows after `length` are overwritten by the next step; no copy.
    return length === this.length ? this : new SharedKvView(this.#buffer, length, this.generation);
  }
}

/** The per-layer buffers and their capacity. */
export class SharedKvBuffer {
  /** `past_key_values.{i}.key|value` → the [1, kvHeads, capacity, headDim] tensor. */
  tensors: Record<string, OrtTensor> = {};
  /** Tokens the buffers hold room for. */
  capacity = 0;
  #generation = 0;
  readonly #ort: OrtApi;
  readonly #geometry: KvBufferGeometry;
  readonly #maxTokens: number;

  /** Buffers of `geometry`; never larger than `maxTokens` (the model's context). */
  constructor(ort: OrtApi, geometry: KvBufferGeometry, maxTokens: number) {
    this.#ort = ort;
    this.#geometry = geometry;
    this.#maxTokens = maxTokens;
  }

  /** A zero-length view with room for `reserve` tokens; every older view goes stale. */
  empty(reserve: number): SharedKvView {
    this.#generation++;
    if (reserve > this.capacity) this.#allocate(this.#bounded(reserve), 0);
    return new SharedKvView(this, 0, this.#generation);
  }

  /** Throws unless `view` is still backed by the buffer's contents. */
  assertCurrent(view: SharedKvView): void {
    if (view.buffer !== this || view.generation !== this.#generation) {
      throw new RangeError(
        "this KV cache was overwritten by a later step or request (shared KV buffer)",
      );
    }
  }

  /**
   * Prepares a step of `rows` new tokens after `view`: grows the buffers when
   * `view.length + rows` exceeds the capacity, and makes every other view
   * stale. Returns the view the step produces.
   */
  begin(view: SharedKvView, rows: number): SharedKvView {
    this.assertCurrent(view);
    const total = view.length + rows;
    if (total > this.capacity) {
      // onnxruntime-node 1.30 copies every output, preallocated or not, into a new
      // ArrayBuffer after the run: each step costs a copy of the whole capacity, so
      // the buffers grow by an eighth (at least GROWTH_TOKENS), not by doubling.
      const capacity = Math.max(total + GROWTH_TOKENS, Math.ceil(total * 1.125));
      this.#allocate(Math.max(this.#bounded(capacity), total), view.length);
    }
    this.#generation++;
    return new SharedKvView(this, total, this.#generation);
  }

  #bounded(tokens: number): number {
    return Math.min(tokens, this.#maxTokens);
  }

  /** New buffers of `capacity` tokens, keeping the first `keep` tokens of every head. */
  #allocate(capacity: number, keep: number): void {
    const { layers, kvHeads, headDim, cacheType } = this.#geometry;
    const tensors: Record<string, OrtTensor> = {};
    for (let i = 0; i < layers; i++) {
      for (const part of ["key", "value"]) {
        const name = `past_key_values.${i}.${part}`;
        const size = kvHeads * capacity * headDim;
        const target = cacheType === "float16" ? new Uint16Array(size) : new Float32Array(size);
        const old = this.tensors[name];
        if (old && keep > 0) {
          const source = old.data as CacheArray;
          // Layout [1, heads, capacity, headDim]: each head's rows move to its new stride.
          for (let h = 0; h < kvHeads; h++) {
            const from = h * this.capacity * headDim;
            target.set(source.subarray(from, from + keep * headDim), h * capacity * headDim);
          }
        }
        tensors[name] = new this.#ort.Tensor(cacheType, target, [1, kvHeads, capacity, headDim]);
      }
    }
    this.tensors = tensors;
    this.capacity = capacity;
  }
}
