/**
 * An {@linkcode Embedder} that gathers rows of the embedding table in JS,
 * without an ONNX Runtime session: the table stays on disk or in one JS
 * buffer (not inside the wasm heap), and a decode step costs a row read
 * instead of a session run. Rows are dequantized with the graph's own
 * arithmetic (one float32 product per value), so the values are bit-identical
 * to the session's. Negative ids (image placeholders) embed as id 0, as in
 * {@linkcode OnnxEmbedder}.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { float16ToFloat32 } from "../runtime/float16.ts";
import { planRowReads } from "./row_reads.ts";
import type { TableRows } from "./table_rows.ts";
import type { Embedder, FeatureMatrix } from "./types.ts";

/** How stored rows become float32 values. */
export type RowDecoding =
  | { readonly kind: "float32" }
  | { readonly kind: "float16" }
  | { readonly kind: "row_scaled"; readonly scales: Float32Array }
  | {
    readonly kind: "dequantize";
    readonly signed: boolean;
    readonly scale: number;
    readonly zeroPoint: number;
  }
  | {
    /** Per-block scales and zero points along each row (GatherBlockQuantized). */
    readonly kind: "block";
    /** 4-bit values two per byte, low nibble first (`signed`: int4), or one uint8 per byte. */
    readonly bits: 4 | 8;
    /** Whether 4-bit values are two's-complement int4. */
    readonly signed: boolean;
    /** Values per block. */
    readonly blockSize: number;
    /** `[vocab, blocks]`. */
    readonly scales: Float32Array;
    /** `[vocab, blocks]`, unpacked. */
    readonly zeroPoints: Int16Array;
  };

/** Bytes per stored row of `hidden` values. */
export function rowBytesOf(decoding: RowDecoding, hidden: number): number {
  switch (decoding.kind) {
    case "float32":
      return hidden * 4;
    case "float16":
      return hidden * 2;
    case "block":
      return decoding.bits === 4 ? Math.ceil(hidden / 2) : hidden;
    default:
      return hidden;
  }
}

/** Embedder over a table's rows. */
export class TableEmbedder implements Embedder {
  readonly #rows: TableRows;
  readonly #decoding: RowDecoding;
  /** Row width. */
  readonly hidden: number;
  /** Row count (vocabulary size). */
  readonly vocab: number;

  /** Gathers from `rows`, each `hidden` values stored as `decoding` says. */
  constructor(rows: TableRows, hidden: number, decoding: RowDecoding) {
    if (rows.rowBytes !== rowBytesOf(decoding, hidden)) {
      throw new RangeError(`TableEmbedder: ${rows.rowBytes} bytes per row for ${hidden} values`);
    }
    this.#rows = rows;
    this.hidden = hidden;
    this.vocab = rows.vocab;
    this.#decoding = decoding;
  }

  /**
   * One row per id. Each distinct row is decoded once; rows are read in as few
   * reads as `planRowReads` makes of them (from a file, nearby rows share one).
   */
  embed(ids: readonly number[]): Promise<FeatureMatrix> {
    const hidden = this.hidden;
    const { vocab } = this.#rows;
    const rows = ids.map((id) => {
      if (!Number.isInteger(id) || id >= vocab) {
        throw new VlmError("input_invalid", `token id ${id} is outside the vocabulary (${vocab})`, {
          fix: "use the model's own tokenizer, whose ids are below the vocabulary size",
        });
      }
      return Math.max(0, id);
    });
    const distinct = [...new Set(rows)].sort((a, b) => a - b);
    const data = new Float32Array(rows.length * hidden);
    const at = new Map<number, Float32Array>();
    const rowBytes = this.#rows.rowBytes;
    let i = 0;
    for (const read of planRowReads(distinct, rowBytes, this.#rows.mergeGapBytes)) {
      const bytes = this.#rows.read(read.first, read.count);
      const end = read.first + read.count;
      // Decode each run of adjacent wanted rows in the read; the gaps are skipped.
      while (i < distinct.length && distinct[i] < end) {
        let j = i + 1;
        while (j < distinct.length && distinct[j] === distinct[j - 1] + 1) j++;
        const from = (distinct[i] - read.first) * rowBytes;
        const values = this.#decode(
          distinct[i],
          bytes.subarray(from, from + (j - i) * rowBytes),
        );
        for (let k = i; k < j; k++) {
          at.set(distinct[k], values.subarray((k - i) * hidden, (k - i + 1) * hidden));
        }
        i = j;
      }
    }
    rows.forEach((row, i) => data.set(at.get(row)!, i * hidden));
    return Promise.resolve({ rows: rows.length, cols: hidden, data });
  }

  /** Float32 values of the rows from `first` held in `bytes` (a view starting on a row). */
  #decode(first: number, bytes: Uint8Array): Float32Array {
    const d = this.#decoding;
    const hidden = this.hidden;
    switch (d.kind) {
      case "float32":
        return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      case "float16":
        return float16ToFloat32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2));
      case "row_scaled": {
        const q = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
        const out = new Float32Array(q.length);
        // An int8 times a float32 is exact in a double; storing it rounds once, as float32 does.
        for (let r = 0; r < q.length / hidden; r++) {
          const scale = d.scales[first + r];
          for (let c = r * hidden; c < (r + 1) * hidden; c++) out[c] = q[c] * scale;
        }
        return out;
      }
      case "dequantize": {
        const q = d.signed ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes;
        const out = new Float32Array(q.length);
        for (let c = 0; c < q.length; c++) out[c] = (q[c] - d.zeroPoint) * d.scale;
        return out;
      }
      case "block": {
        const rowBytes = this.#rows.rowBytes;
        const count = bytes.length / rowBytes;
        const blocks = Math.ceil(hidden / d.blockSize);
        const out = new Float32Array(count * hidden);
        for (let r = 0; r < count; r++) {
          const base = (first + r) * blocks;
          for (let c = 0; c < hidden; c++) {
            let q: number;
            if (d.bits === 8) q = bytes[r * rowBytes + c];
            else {
              const byte = bytes[r * rowBytes + (c >> 1)];
              q = c & 1 ? byte >> 4 : byte & 15;
              if (d.signed) q = (q ^ 8) - 8;
            }
            const b = base + Math.floor(c / d.blockSize);
            out[r * hidden + c] = (q - d.zeroPoints[b]) * d.scales[b];
          }
        }
        return out;
      }
    }
  }

  /** Closes the table's file (or drops its bytes). */
  release(): Promise<void> {
    this.#rows.close();
    return Promise.resolve();
  }
}
