/**
 * Weight quantization for the builder's int8 and q4 formats.
 *
 * - int8: symmetric, one scale per output column (zero point 0; the graph
 *   multiplies the integer product by it), or per row for embedding tables.
 * - q4: the `com.microsoft` MatMulNBits layout: for each output column, blocks
 *   of 32 input rows, 4-bit values packed two per byte (low nibble first), one
 *   float scale and one 4-bit zero point per block (asymmetric min/max).
 *
 * @module
 */
import type { WeightTensor } from "./seeded_weights.ts";

/** MatMulNBits block size along the input dimension. */
export const Q4_BLOCK = 32;

/** A symmetric int8 tensor with one scale per slice along `axis`. */
export interface Int8Weights {
  /** Quantized values, same shape as the source. */
  values: Int8Array;
  /** One scale per slice. */
  scales: Float32Array;
}

/**
 * Largest magnitude of int8 weights that feed `MatMulInteger` with uint8
 * activations. x86 CPUs without VNNI (AVX2, AVX512 without VNNI) multiply
 * u8×s8 with `vpmaddubsw`, which adds two products in a saturating int16:
 * 255 · 127 · 2 overflows it, 255 · 63 · 2 = 32,130 does not. Seven-bit
 * weights (the "reduce range" of ONNX Runtime's quantizer) give the same
 * integer product on every CPU and on wasm.
 */
export const MATMUL_INT8_LEVELS = 63;

/**
 * Quantizes a 2-D tensor to int8 with one scale per column (`axis` 1) or per
 * row (`axis` 0). value ≈ q · scale, q ∈ [−levels, levels] (default 127; use
 * {@link MATMUL_INT8_LEVELS} for weights of an integer matmul).
 */
export function quantizeInt8(
  tensor: WeightTensor,
  axis: 0 | 1,
  levels = 127,
): Int8Weights {
  if (!Number.isInteger(levels) || levels < 1 || levels > 127) {
    throw new RangeError(`quantizeInt8: levels must be an integer in 1..127, got ${levels}`);
  }
  const [rows, cols] = tensor.dims;
  const { data } = tensor;
  const slices = axis === 0 ? rows : cols;
  const maxAbs = new Float32Array(slices);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = axis === 0 ? r : c;
      const v = Math.abs(data[r * cols + c]);
      if (v > maxAbs[s]) maxAbs[s] = v;
    }
  }
  const scales = maxAbs.map((m) => m > 0 ? m / levels : 1);
  const values = new Int8Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      values[i] = Math.round(data[i] / scales[axis === 0 ? r : c]);
    }
  }
  return { values, scales };
}

/** A matrix in the MatMulNBits 4-bit layout. */
export interface Q4Weights {
  /** Input size K. */
  k: number;
  /** Output size N. */
  n: number;
  /** Blocks per column: ceil(K / 32). */
  blocks: number;
  /** Packed values `[N, blocks, 16]`. */
  packed: Uint8Array;
  /** Scales `[N · blocks]`. */
  scales: Float32Array;
  /** Zero points, two per byte, `[N · ceil(blocks / 2)]`. */
  zeroPoints: Uint8Array;
}

/**
 * Quantizes `[K, N]` to MatMulNBits q4. Within a block,
 * value ≈ (q − zero) · scale with q, zero ∈ [0, 15]; the block's range always
 * contains 0 so zero is exact. Rows past K (padding of the last block) are 0.
 */
export function quantizeQ4(tensor: WeightTensor): Q4Weights {
  const [k, n] = tensor.dims;
  const { data } = tensor;
  const blocks = Math.ceil(k / Q4_BLOCK);
  const packed = new Uint8Array(n * blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(n * blocks);
  const zeroBytes = Math.ceil(blocks / 2);
  const zeroPoints = new Uint8Array(n * zeroBytes);
  const column = new Float32Array(Q4_BLOCK);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocks; b++) {
      let lo = 0;
      let hi = 0;
      for (let j = 0; j < Q4_BLOCK; j++) {
        const row = b * Q4_BLOCK + j;
        const v = row < k ? data[row * n + col] : 0;
        column[j] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const scale = hi > lo ? (hi - lo) / 15 : 1;
      const zero = Math.min(15, Math.max(0, Math.round(-lo / scale)));
      scales[col * blocks + b] = scale;
      const zIndex = col * zeroBytes + (b >> 1);
      zeroPoints[zIndex] |= (b & 1) ? zero << 4 : zero;
      const base = (col * blocks + b) * (Q4_BLOCK / 2);
      for (let j = 0; j < Q4_BLOCK; j += 2) {
        const q0 = Math.min(15, Math.max(0, Math.round(column[j] / scale) + zero));
        const q1 = Math.min(15, Math.max(0, Math.round(column[j + 1] / scale) + zero));
        packed[base + j / 2] = q0 | (q1 << 4);
      }
    }
  }
  return { k, n, blocks, packed, scales, zeroPoints };
}

/** Expands q4 weights back to a `[K, N]` float matrix (what MatMulNBits multiplies by). */
export function dequantizeQ4(q: Q4Weights): Float32Array {
  const out = new Float32Array(q.k * q.n);
  const zeroBytes = Math.ceil(q.blocks / 2);
  for (let col = 0; col < q.n; col++) {
    for (let b = 0; b < q.blocks; b++) {
      const scale = q.scales[col * q.blocks + b];
      const zByte = q.zeroPoints[col * zeroBytes + (b >> 1)];
      const zero = (b & 1) ? zByte >> 4 : zByte & 15;
      const base = (col * q.blocks + b) * (Q4_BLOCK / 2);
      for (let j = 0; j < Q4_BLOCK; j++) {
        const row = b * Q4_BLOCK + j;
        if (row >= q.k) break;
        const byte = q.packed[base + (j >> 1)];
        const value = (j & 1) ? byte >> 4 : byte & 15;
        out[row * q.n + col] = (value - zero) * scale;
      }
    }
  }
  return out;
}
