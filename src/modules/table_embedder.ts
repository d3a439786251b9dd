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
  };

/** Bytes per stored value of a decoding. */
export function bytesPerValue(decoding: RowDecoding): number {
  return decoding.kind === "float32" ? 4 : decoding.kind === "float16" ? 2 : 1;
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
    if (rows.rowBytes !== hidden * bytesPerValue(decoding)) {
      throw new RangeError(`TableEmbedder: ${rows.rowBytes} bytes per row for ${hidden} values`);
    }
    this.#rows = rows;
    this.hidden = hidden;
    this.vocab = rows.vocab;
    this.#decoding = decoding;
  }

  /** One row per id; rows are read once per run of adjacent distinct ids. */
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
    for (let i = 0; i < distinct.length;) {
      let j = i + 1;
      while (j < distinct.length && distinct[j] === distinct[j - 1] + 1) j++;
      const values = this.#decode(distinct[i], this.#rows.read(distinct[i], j - i));
      for (let k = i; k < j; k++) {
        at.set(distinct[k], values.subarray((k - i) * hidden, (k - i + 1) * hidden));
      }
      i = j;
    }
    rows.forEach((row, i) => data.set(at.get(row)!, i * hidden));
    return Promise.resolve({ rows: rows.length, cols: hidden, data });
  }

  /** Float32 values of the rows from `first` held in `bytes` (aligned at 0). */
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
    }
  }

  /** Closes the table's file (or drops its bytes). */
  release(): Promise<void> {
    this.#rows.close();
    return Promise.resolve();
  }
}
