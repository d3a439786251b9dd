/**
 * Key/value rows in and out of a capacity buffer: the KV-rows decode path,
 * whose graph returns only a step's new rows (`KV_ROWS_AXIS`), keeps the cache
 * in `SharedKvBuffer`'s capacity buffers, feeds them whole as past (or their
 * leading rows, for a prompt chunk) and appends the rows here after the run.
 *
 * @module
 */
/** A cache buffer's elements: float32 values, or float16 as bits. */
export type CacheArray = Float32Array | Uint16Array;

/** The raw elements of a cache tensor's data (float16 as bits, whatever array type holds them). */
export function cacheBits(data: unknown, cacheType: "float32" | "float16"): CacheArray {
  if (cacheType === "float32") return data as Float32Array;
  const view = data as ArrayBufferView;
  // onnxruntime-web may hand back float16 as a Float16Array: copy bits, not values.
  return data instanceof Uint16Array
    ? data
    : new Uint16Array(view.buffer, view.byteOffset, view.byteLength >> 1);
}

/**
 * Copies `rows` [kvHeads, rows, headDim] into `target` [kvHeads, capacity,
 * headDim] at token `at` of every head.
 */
export function writeRows(
  target: CacheArray,
  capacity: number,
  at: number,
  rows: CacheArray,
  kvHeads: number,
  headDim: number,
): void {
  const count = rows.length / (kvHeads * headDim);
  if (!Number.isInteger(count) || at < 0 || at + count > capacity) {
    throw new RangeError(
      `cannot write ${
        rows.length / (kvHeads * headDim)
      } rows at ${at} of a ${capacity}-token buffer`,
    );
  }
  const chunk = count * headDim;
  for (let h = 0; h < kvHeads; h++) {
    target.set(rows.subarray(h * chunk, (h + 1) * chunk), (h * capacity + at) * headDim);
  }
}

/**
 * The first `length` tokens of every head of `source` [kvHeads, capacity,
 * headDim], as a new [kvHeads, length, headDim] array.
 */
export function leadingRows(
  source: CacheArray,
  capacity: number,
  length: number,
  kvHeads: number,
  headDim: number,
): CacheArray {
  if (!Number.isInteger(length) || length < 0 || length > capacity) {
    throw new RangeError(`cannot read ${length} rows of a ${capacity}-token buffer`);
  }
  const target = source instanceof Float32Array
    ? new Float32Array(kvHeads * length * headDim)
    : new Uint16Array(kvHeads * length * headDim);
  const chunk = length * headDim;
  for (let h = 0; h < kvHeads; h++) {
    const from = h * capacity * headDim;
    target.set(source.subarray(from, from + chunk), h * chunk);
  }
  return target;
}
