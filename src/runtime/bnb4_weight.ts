/**
 * Reading a `com.microsoft` MatMulBnb4 weight (ONNX Runtime's
 * `MatMulBnb4Quantizer`, the `_bnb4` exports) one output column at a time,
 * for the int8 re-pack: the transposed weight `[N, K]` flattened into blocks,
 * one absmax per block, each value a 4-bit code (high nibble first) of the
 * NF4 or FP4 table times its block's absmax.
 *
 * @module
 */
import { BNB4_CODES } from "../build/quantize.ts";

/** A MatMulBnb4 weight. */
export interface Bnb4Weight {
  /** Input size K. */
  k: number;
  /** Output size N. */
  n: number;
  /** Values per absmax block. */
  blockSize: number;
  /** `quant_type`: 0 FP4, 1 NF4. */
  quantType: number;
  /** Packed codes, `[ceil(N · K / 2)]`. */
  packed: Uint8Array;
  /** One absmax per block, `[ceil(N · K / blockSize)]`. */
  absmax: Float32Array;
}

/** What is wrong with `w`'s sizes or attributes, if anything. */
export function bnb4Problem(w: Bnb4Weight): string | undefined {
  if (w.quantType !== 0 && w.quantType !== 1) return `quant_type ${w.quantType}`;
  if (!(w.blockSize >= 16 && (w.blockSize & (w.blockSize - 1)) === 0)) {
    return `block_size ${w.blockSize} is not a power of two ≥ 16`;
  }
  const numel = w.k * w.n;
  if (w.packed.length !== Math.ceil(numel / 2)) return "B does not match K, N";
  if (w.absmax.length !== Math.ceil(numel / w.blockSize)) return "absmax does not match K, N";
  return undefined;
}

/** Column `col` of `w` (K floats: what MatMulBnb4 multiplies by). */
export function dequantizeBnb4Column(w: Bnb4Weight, col: number, out: Float32Array): void {
  const codes = BNB4_CODES[w.quantType === 1 ? "nf4" : "fp4"];
  for (let row = 0; row < w.k; row++) {
    const i = col * w.k + row;
    const byte = w.packed[i >> 1];
    out[row] = codes[(i & 1) ? byte & 15 : byte >> 4] * w.absmax[Math.floor(i / w.blockSize)];
  }
}
