/**
 * Weight quantization for the builder's 8-bit and 4-bit formats.
 *
 * - int8: symmetric, one scale per output column (zero point 0; the graph
 *   multiplies the integer product by it), or per row for embedding tables.
 * - uint8: asymmetric, one scale and one uint8 zero point per output column
 *   (ONNX Runtime's quantizer with `QUInt8` weights, the `_uint8` exports).
 * - q4: the `com.microsoft` MatMulNBits layout: for each output column, blocks
 *   of 32 input rows (or another power of two ≥ 16), 4-bit values packed two
 *   per byte (low nibble first), one float scale and one 4-bit zero point per
 *   block (asymmetric min/max).
 * - bnb4: the `com.microsoft` MatMulBnb4 layout of ONNX Runtime's
 *   `MatMulBnb4Quantizer` (the `_bnb4` exports): the transposed weight
 *   `[N, K]` flattened into blocks of 64, one float absmax per block, each
 *   value the nearest NF4 (or FP4) code of value / absmax, high nibble first.
 *
 * @module
 */
import type { WeightTensor } from "./seeded_weights.ts";

/** MatMulNBits block size along the input dimension (the published q4 exports' size). */
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
  /** Rows per block. */
  block: number;
  /** Blocks per column: ceil(K / block). */
  blocks: number;
  /** Packed values `[N, blocks, block / 2]`. */
  packed: Uint8Array;
  /** Scales `[N · blocks]`. */
  scales: Float32Array;
  /** Zero points, two per byte, `[N · ceil(blocks / 2)]`. */
  zeroPoints: Uint8Array;
}

/**
 * Quantizes `[K, N]` to MatMulNBits q4 in blocks of `block` rows (a power of
 * two ≥ 16, default {@link Q4_BLOCK}). Within a block,
 * value ≈ (q − zero) · scale with q, zero ∈ [0, 15]; the block's range always
 * contains 0 so zero is exact. Rows past K (padding of the last block) are 0.
 */
export function quantizeQ4(tensor: WeightTensor, block: number = Q4_BLOCK): Q4Weights {
  if (!(Number.isInteger(block) && block >= 16 && (block & (block - 1)) === 0)) {
    throw new RangeError(`quantizeQ4: block must be a power of two ≥ 16, got ${block}`);
  }
  const [k, n] = tensor.dims;
  const { data } = tensor;
  const blocks = Math.ceil(k / block);
  const packed = new Uint8Array(n * blocks * (block / 2));
  const scales = new Float32Array(n * blocks);
  const zeroBytes = Math.ceil(blocks / 2);
  const zeroPoints = new Uint8Array(n * zeroBytes);
  const column = new Float32Array(block);
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocks; b++) {
      let lo = 0;
      let hi = 0;
      for (let j = 0; j < block; j++) {
        const row = b * block + j;
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
      const base = (col * blocks + b) * (block / 2);
      for (let j = 0; j < block; j += 2) {
        const q0 = Math.min(15, Math.max(0, Math.round(column[j] / scale) + zero));
        const q1 = Math.min(15, Math.max(0, Math.round(column[j + 1] / scale) + zero));
        packed[base + j / 2] = q0 | (q1 << 4);
      }
    }
  }
  return { k, n, block, blocks, packed, scales, zeroPoints };
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
      const base = (col * q.blocks + b) * (q.block / 2);
      for (let j = 0; j < q.block; j++) {
        const row = b * q.block + j;
        if (row >= q.k) break;
        const byte = q.packed[base + (j >> 1)];
        const value = (j & 1) ? byte >> 4 : byte & 15;
        out[row * q.n + col] = (value - zero) * scale;
      }
    }
  }
  return out;
}

/** An asymmetric uint8 tensor with one scale and zero point per column. */
export interface Uint8Weights {
  /** Quantized values, same shape as the source `[K, N]`. */
  values: Uint8Array;
  /** One scale per column. */
  scales: Float32Array;
  /** One zero point per column. */
  zeroPoints: Uint8Array;
}

/**
 * Quantizes `[K, N]` to uint8 per column: value ≈ (q − zero) · scale with
 * q, zero ∈ [0, 255]; each column's range is widened to contain 0, so 0 is exact.
 */
export function quantizeUint8(tensor: WeightTensor): Uint8Weights {
  const [rows, cols] = tensor.dims;
  const { data } = tensor;
  const lo = new Float32Array(cols);
  const hi = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c];
      if (v < lo[c]) lo[c] = v;
      if (v > hi[c]) hi[c] = v;
    }
  }
  const scales = new Float32Array(cols);
  const zeroPoints = new Uint8Array(cols);
  for (let c = 0; c < cols; c++) {
    scales[c] = hi[c] > lo[c] ? (hi[c] - lo[c]) / 255 : 1;
    zeroPoints[c] = Math.min(255, Math.max(0, Math.round(-lo[c] / scales[c])));
  }
  const values = new Uint8Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      values[i] = Math.min(255, Math.max(0, Math.round(data[i] / scales[c]) + zeroPoints[c]));
    }
  }
  return { values, scales, zeroPoints };
}

/** MatMulBnb4 block size (bitsandbytes' `Linear4bit` and the quantizer's default). */
export const BNB4_BLOCK = 64;

/** MatMulBnb4 `quant_type` codes. */
export const BNB4_TYPE = { fp4: 0, nf4: 1 } as const;

/** The 16 values of each bnb4 code, in units of the block's absmax (ONNX Runtime's tables). */
export const BNB4_CODES: Readonly<Record<keyof typeof BNB4_TYPE, readonly number[]>> = {
  nf4: [
    -1,
    -0.6961928009986877,
    -0.5250730514526367,
    -0.39491748809814453,
    -0.28444138169288635,
    -0.18477343022823334,
    -0.09105003625154495,
    0,
    0.07958029955625534,
    0.16093020141124725,
    0.24611230194568634,
    0.33791524171829224,
    0.44070982933044434,
    0.5626170039176941,
    0.7229568362236023,
    1,
  ],
  fp4: [
    0,
    5.208333333e-3,
    0.66666667,
    1,
    0.33333333,
    0.5,
    0.16666667,
    0.25,
    -0,
    -5.208333333e-3,
    -0.66666667,
    -1,
    -0.33333333,
    -0.5,
    -0.16666667,
    -0.25,
  ],
};

/** A matrix in the MatMulBnb4 layout. */
export interface Bnb4Weights {
  /** Input size K. */
  k: number;
  /** Output size N. */
  n: number;
  /** Code table. */
  type: keyof typeof BNB4_TYPE;
  /** Packed codes of the transposed weight, two per byte (high nibble first): `[ceil(N·K / 2)]`. */
  packed: Uint8Array;
  /** One absmax per block of 64: `[ceil(N·K / 64)]`. */
  absmax: Float32Array;
}

/** The code whose value is nearest `x` (x in [−1, 1]); ties go to the lower code. */
function nearestCode(codes: readonly number[], x: number): number {
  let best = 0;
  for (let i = 1; i < codes.length; i++) {
    if (Math.abs(codes[i] - x) < Math.abs(codes[best] - x)) best = i;
  }
  return best;
}

/** Quantizes `[K, N]` to MatMulBnb4 (default NF4, the published `_bnb4` form). */
export function quantizeBnb4(
  tensor: WeightTensor,
  type: keyof typeof BNB4_TYPE = "nf4",
): Bnb4Weights {
  const [k, n] = tensor.dims;
  const { data } = tensor;
  const numel = k * n;
  const codes = BNB4_CODES[type];
  const packed = new Uint8Array(Math.ceil(numel / 2));
  const absmax = new Float32Array(Math.ceil(numel / BNB4_BLOCK));
  // Element i of the transposed weight: row i / K (output column), col i % K (input row).
  const at = (i: number) => data[(i % k) * n + Math.floor(i / k)];
  for (let b = 0; b < absmax.length; b++) {
    const start = b * BNB4_BLOCK;
    const end = Math.min(numel, start + BNB4_BLOCK);
    let max = 0;
    for (let i = start; i < end; i++) max = Math.max(max, Math.abs(at(i)));
    absmax[b] = max;
    const inv = max > 0 ? 1 / max : 0;
    for (let i = start; i < end; i++) {
      const code = nearestCode(codes, at(i) * inv);
      packed[i >> 1] |= (i & 1) ? code : code << 4;
    }
  }
  return { k, n, type, packed, absmax };
}

/** Expands bnb4 weights back to a `[K, N]` float matrix (what MatMulBnb4 multiplies by). */
export function dequantizeBnb4(q: Bnb4Weights): Float32Array {
  const out = new Float32Array(q.k * q.n);
  const codes = BNB4_CODES[q.type];
  for (let i = 0; i < q.k * q.n; i++) {
    const byte = q.packed[i >> 1];
    const code = (i & 1) ? byte & 15 : byte >> 4;
    out[(i % q.k) * q.n + Math.floor(i / q.k)] = codes[code] * q.absmax[Math.floor(i / BNB4_BLOCK)];
  }
  return out;
}
