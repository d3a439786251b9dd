/**
 * Re-packs a 4-bit block-quantized weight (the `com.microsoft` MatMulNBits
 * layout) as int8 with one scale per output column, the form of ONNX
 * Runtime's fast integer matmul. onnxruntime-web has no 4-bit kernel: its
 * MatMulNBits expands the whole weight to float on every call, ~17× slower
 * per decode step than the int8 path (tools/bench/matmul_kernels.ts).
 *
 * @module
 */

/** A MatMulNBits weight with 4-bit values. */
export interface NBitsWeight {
  /** Input size K. */
  k: number;
  /** Output size N. */
  n: number;
  /** Rows per block along K. */
  blockSize: number;
  /** Packed values `[N, ceil(K / blockSize), blockSize / 2]`, low nibble first. */
  packed: Uint8Array;
  /** One scale per block, `[N · blocks]`. */
  scales: Float32Array;
  /** 4-bit zero points, two per byte, `[N · ceil(blocks / 2)]`; absent: 8. */
  zeroPoints?: Uint8Array;
}

/** An int8 `[K, N]` weight with one scale per column: value ≈ q · scale. */
export interface ColumnInt8Weight {
  /** Values, row-major `[K, N]`. */
  values: Int8Array;
  /** One scale per column. */
  scales: Float32Array;
}

/**
 * Largest int8 magnitude on wasm: its u8×s8 kernel widens each product before
 * adding (no saturating pair-add as on x86 without VNNI), so the full range is
 * exact there. Elsewhere use 63, the builder's `MATMUL_INT8_LEVELS`.
 */
export const REPACK_LEVELS = 127;

/** Blocks per column of `w`. */
export function blockCount(w: Pick<NBitsWeight, "k" | "blockSize">): number {
  return Math.ceil(w.k / w.blockSize);
}

/** Checks that the buffers of `w` have the sizes its shape needs; returns what is wrong. */
export function nbitsProblem(w: NBitsWeight): string | undefined {
  const { k, n, blockSize } = w;
  if (!(k > 0 && n > 0 && Number.isInteger(k) && Number.isInteger(n))) return `K=${k}, N=${n}`;
  if (!(blockSize >= 2 && blockSize % 2 === 0)) return `block_size ${blockSize}`;
  const blocks = blockCount(w);
  if (w.packed.length !== n * blocks * (blockSize / 2)) {
    return `B has ${w.packed.length} bytes, expected ${n * blocks * (blockSize / 2)}`;
  }
  if (w.scales.length !== n * blocks) {
    return `scales have ${w.scales.length} values, expected ${n * blocks}`;
  }
  if (w.zeroPoints && w.zeroPoints.length !== n * Math.ceil(blocks / 2)) {
    return `zero_points have ${w.zeroPoints.length} bytes, expected ${n * Math.ceil(blocks / 2)}`;
  }
  return undefined;
}

/** Column `col` of `w` as floats, `K` values (what MatMulNBits multiplies by). */
export function dequantizeNBitsColumn(w: NBitsWeight, col: number, out: Float32Array): void {
  const blocks = blockCount(w);
  const zeroBytes = Math.ceil(blocks / 2);
  const blob = w.blockSize / 2;
  for (let b = 0; b < blocks; b++) {
    const scale = w.scales[col * blocks + b];
    let zero = 8;
    if (w.zeroPoints) {
      const z = w.zeroPoints[col * zeroBytes + (b >> 1)];
      zero = (b & 1) ? z >> 4 : z & 15;
    }
    const base = (col * blocks + b) * blob;
    const first = b * w.blockSize;
    const last = Math.min(w.k, first + w.blockSize);
    for (let row = first; row < last; row++) {
      const j = row - first;
      const byte = w.packed[base + (j >> 1)];
      out[row] = (((j & 1) ? byte >> 4 : byte & 15) - zero) * scale;
    }
  }
}

/**
 * `w` as int8 `[K, N]` with per-column scales: each column's largest
 * magnitude maps to ±`levels` (default {@linkcode REPACK_LEVELS}), so every
 * value moves by at most half a column step from its 4-bit value.
 */
export function repackNBitsToInt8(w: NBitsWeight, levels = REPACK_LEVELS): ColumnInt8Weight {
  const problem = nbitsProblem(w);
  if (problem) throw new RangeError(`repackNBitsToInt8: ${problem}`);
  return repackColumns(w.k, w.n, (col, out) => dequantizeNBitsColumn(w, col, out), levels);
}

/**
 * A `[K, N]` weight, read one float column at a time by `column`, as int8
 * with per-column scales (±`levels` for each column's largest magnitude),
 * written `into` the given arrays when there are (e.g. views of a message),
 * with `into.scratch` (at least `REPACK_TILE`·K floats) as working space when given.
 */
export function repackColumns(
  k: number,
  n: number,
  column: (col: number, out: Float32Array) => void,
  levels = REPACK_LEVELS,
  into?: { values: Int8Array; scales: Float32Array; scratch?: Float32Array },
): ColumnInt8Weight {
  if (!Number.isInteger(levels) || levels < 1 || levels > 127) {
    throw new RangeError(`repackColumns: levels must be an integer in 1..127, got ${levels}`);
  }
  const values = into?.values ?? new Int8Array(k * n);
  const scales = into?.scales ?? new Float32Array(n);
  if (values.length !== k * n || scales.length !== n) {
    throw new RangeError(`repackColumns: output sizes do not match [${k}, ${n}]`);
  }
  // Columns are read TILE at a time and written row by row: a column-at-a-time write
  // strides N bytes per value, which for a 576×1536 matrix is a cache miss per value.
  const tile = Math.min(n, REPACK_TILE);
  // A caller re-packing many weights passes one scratch for all (less garbage left behind).
  const floats = into?.scratch && into.scratch.length >= tile * k
    ? into.scratch
    : new Float32Array(tile * k);
  for (let first = 0; first < n; first += tile) {
    const count = Math.min(tile, n - first);
    for (let c = 0; c < count; c++) {
      const out = floats.subarray(c * k, (c + 1) * k);
      column(first + c, out);
      let max = 0;
      for (let row = 0; row < k; row++) max = Math.max(max, Math.abs(out[row]));
      scales[first + c] = max > 0 && Number.isFinite(max) ? max / levels : 1;
    }
    for (let row = 0; row < k; row++) {
      const base = row * n + first;
      for (let c = 0; c < count; c++) {
        const q = Math.round(floats[c * k + row] / scales[first + c]);
        values[base + c] = q > levels ? levels : q < -levels ? -levels : q;
      }
    }
  }
  return { values, scales };
}

/** Columns re-packed together (see {@linkcode repackColumns}). */
export const REPACK_TILE = 64;
