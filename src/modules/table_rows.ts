/**
 * Where the rows of an embedding table are read from: bytes held once in
 * memory (fetched or bundled models), or a file read at positions (local
 * folders), so only the rows a call needs enter memory.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { ReadOnlyFile } from "../platform/types.ts";
import { FILE_MERGE_GAP_BYTES } from "./row_reads.ts";

/** The rows of a `[vocab, hidden]` table stored row-major. */
export interface TableRows {
  /** Row count. */
  readonly vocab: number;
  /** Bytes per row. */
  readonly rowBytes: number;
  /** Bytes of unwanted rows worth reading through to save a separate read (0: none). */
  readonly mergeGapBytes: number;
  /** The bytes of rows `[first, first + count)` in a fresh buffer (aligned at 0). */
  read(first: number, count: number): Uint8Array;
  /** Lets go of the file or the bytes. */
  close(): void;
}

function truncated(name: string, need: number, have: number): VlmError {
  return new VlmError(
    "model_invalid",
    `${name} is truncated: the embedding table needs bytes up to ${need}, the file has ${have}`,
    { fix: `download ${name} again (it is incomplete or corrupt)` },
  );
}

function closedError(): VlmError {
  return new VlmError("usage", "the embedding table was closed (the model was disposed)", {
    fix: "load the model again with loadModel",
  });
}

/** Rows from `bytes` (a view of the table, kept as is: no copy). */
export function memoryRows(
  bytes: Uint8Array,
  vocab: number,
  rowBytes: number,
  name: string,
): TableRows {
  if (bytes.byteLength < vocab * rowBytes) {
    throw truncated(name, vocab * rowBytes, bytes.byteLength);
  }
  let table: Uint8Array | undefined = bytes.subarray(0, vocab * rowBytes);
  return {
    vocab,
    rowBytes,
    // A copy from memory has next to no fixed cost: copy only the wanted rows.
    mergeGapBytes: 0,
    read(first, count) {
      if (!table) throw closedError();
      const out = new Uint8Array(count * rowBytes);
      out.set(table.subarray(first * rowBytes, (first + count) * rowBytes));
      return out;
    },
    close: () => table = undefined,
  };
}

/** Rows from `file` at `offset`; `close` closes the file (the caller's, when this throws). */
export function fileRows(
  file: ReadOnlyFile,
  offset: number,
  vocab: number,
  rowBytes: number,
  name: string,
): TableRows {
  const end = offset + vocab * rowBytes;
  if (file.size < end) throw truncated(name, end, file.size);
  let open = true;
  return {
    vocab,
    rowBytes,
    mergeGapBytes: FILE_MERGE_GAP_BYTES,
    read(first, count) {
      if (!open) throw closedError();
      const out = new Uint8Array(count * rowBytes);
      const position = offset + first * rowBytes;
      const got = file.readAt(out, position);
      if (got < out.length) throw truncated(name, position + out.length, position + got);
      return out;
    },
    close() {
      if (open) file.close();
      open = false;
    },
  };
}
