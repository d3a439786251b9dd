/**
 * Opens an `embed_tokens` file as a {@linkcode TableEmbedder} when its graph
 * is a recognised row gather ({@linkcode recogniseEmbedding}): in a local
 * folder on a host with positioned reads the table stays on disk (inline in
 * the `.onnx` file or in its external data file); otherwise the file's bytes
 * are held once, as the table. `undefined` when the graph is not recognised,
 * so the caller opens its session instead.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { type EmbeddingForm, recogniseEmbedding } from "../modules/embedding_form.ts";
import { ONNX_TYPE } from "../onnx/onnx_fields.ts";
import { type OutlineTensor, readOnnxOutline } from "../onnx/onnx_outline.ts";
import { WireError } from "../onnx/protobuf_wire.ts";
import { type ByteSource, copyBytes, memorySource } from "../onnx/wire_reader.ts";
import { rowBytesOf, type RowDecoding, TableEmbedder } from "../modules/table_embedder.ts";
import { fileRows, memoryRows, type TableRows } from "../modules/table_rows.ts";
import { platform } from "../platform/current.ts";
import type { ReadOnlyFile } from "../platform/types.ts";
import type { ModelFolder } from "./model_folder.ts";

/** A file of the folder, opened for the reads the table needs. */
interface Opened {
  /** The file's name in messages. */
  name: string;
  /** Positioned reads of it. */
  source: ByteSource;
  /** Rows of a table in it, from `offset`. */
  rows(offset: number, vocab: number, rowBytes: number): TableRows;
  /** Closes it (no-op for bytes in memory). */
  close(): void;
  /** The file's bytes, when it was read into memory. */
  bytes?: Uint8Array;
}

function missing(name: string, location: string): VlmError {
  return new VlmError("model_invalid", `${location} has no ${name}`, {
    fix: `download ${name} beside the .onnx file that refers to it`,
  });
}

function fromFile(file: ReadOnlyFile, name: string): Opened {
  const source: ByteSource = {
    size: file.size,
    read(position, length) {
      const out = new Uint8Array(length);
      const got = file.readAt(out, position);
      if (got < length) throw new WireError(`${name} ends at byte ${position + got}`);
      return out;
    },
  };
  return {
    name,
    source,
    rows: (offset, vocab, rowBytes) => fileRows(file, offset, vocab, rowBytes, name),
    close: () => file.close(),
  };
}

function fromBytes(bytes: Uint8Array, name: string): Opened {
  return {
    name,
    bytes,
    source: memorySource(bytes),
    rows: (offset, vocab, rowBytes) =>
      memoryRows(bytes.subarray(Math.min(offset, bytes.length)), vocab, rowBytes, name),
    close: () => {},
  };
}

/** Opens `path` of `folder`: on disk when possible, else its bytes. */
async function openFile(
  folder: ModelFolder,
  path: string,
  signal: AbortSignal | undefined,
  disk: boolean,
): Promise<Opened | undefined> {
  const host = platform();
  const local = disk && host.openReadOnly && folder.localPath
    ? await folder.localPath(path)
    : undefined;
  if (local) {
    const file = host.openReadOnly!(local);
    if (file) return fromFile(file, path);
  }
  const bytes = await folder.read(path, signal);
  return bytes && fromBytes(bytes, path);
}

/** Little-endian bytes of a small tensor (a scale, a zero point, per-row scales). */
function tensorBytes(t: OutlineTensor, model: Opened, data: () => Opened): Uint8Array {
  const b = t.bytes!;
  if (b.kind === "decoded") return b.bytes;
  const file = b.kind === "inline" ? model : data();
  if (b.offset + b.length > file.source.size) {
    throw new VlmError(
      "model_invalid",
      `${file.name} is truncated: ${t.name} needs bytes up to ${b.offset + b.length}, ` +
        `the file has ${file.source.size}`,
      { fix: `download ${file.name} again (it is incomplete or corrupt)` },
    );
  }
  return copyBytes(file.source.read(b.offset, b.length));
}

function decoding(form: EmbeddingForm, small: (t: OutlineTensor) => Uint8Array): RowDecoding {
  const floats = (t: OutlineTensor) => {
    const bytes = small(t);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
  switch (form.kind) {
    case "float":
      return { kind: form.table.dataType === ONNX_TYPE.float16 ? "float16" : "float32" };
    case "row_scaled":
      return { kind: "row_scaled", scales: floats(form.scales) };
    case "block_quantized":
      return {
        kind: "block",
        bits: form.bits,
        signed: form.storage === "int4",
        blockSize: form.blockSize,
        scales: floats(form.scales),
        zeroPoints: blockZeroPoints(form, form.zeroPoints && small(form.zeroPoints)),
      };
    case "dequantize": {
      const signed = form.table.dataType === ONNX_TYPE.int8;
      const zp = form.zeroPoint ? small(form.zeroPoint)[0] : 0;
      return {
        kind: "dequantize",
        signed,
        scale: floats(form.scale)[0],
        zeroPoint: signed ? (zp << 24) >> 24 : zp,
      };
    }
  }
}

/**
 * The zero point of every (row, block), as ONNX Runtime's GatherBlockQuantized
 * reads them: uint8 4-bit ones packed per row (low nibble first), uint4/int4
 * ones packed over the whole tensor; without them 2^(bits − 1) for uint8 data
 * and 0 for uint4/int4.
 */
function blockZeroPoints(
  form: Extract<EmbeddingForm, { kind: "block_quantized" }>,
  packed: Uint8Array | undefined,
): Int16Array {
  const vocab = form.table.dims[0];
  const blocks = Math.ceil(form.hidden / form.blockSize);
  const out = new Int16Array(vocab * blocks);
  if (!packed) return out.fill(form.storage === "uint8" ? 1 << (form.bits - 1) : 0);
  const nibble = (byte: number, high: boolean) => {
    const v = high ? byte >> 4 : byte & 15;
    return form.storage === "int4" ? (v ^ 8) - 8 : v;
  };
  const perRow = Math.ceil(blocks / 2);
  for (let r = 0; r < vocab; r++) {
    for (let b = 0; b < blocks; b++) {
      const i = r * blocks + b;
      out[i] = form.storage === "uint8"
        ? form.bits === 8 ? packed[i] : nibble(packed[r * perRow + (b >> 1)], (b & 1) === 1)
        : nibble(packed[i >> 1], (i & 1) === 1);
    }
  }
  return out;
}

/** Options of {@linkcode openEmbeddingTable}. */
export interface EmbeddingTableOptions {
  /** Cancels reading. */
  signal?: AbortSignal;
  /** Keep a local table on disk (default true); false holds it in memory. */
  disk?: boolean;
  /**
   * Receives the file's bytes when they were read into memory but the graph is
   * not recognised, so the session can be made from them without a second read.
   */
  spare?: Map<string, Uint8Array>;
}

/**
 * A table embedder for `path` of `folder`, or `undefined` when the file is
 * absent, unreadable as an outline, or not a recognised gather (the session
 * then reports what is wrong). A truncated table or a missing external data
 * file is a `model_invalid` error naming the file.
 */
export async function openEmbeddingTable(
  folder: ModelFolder,
  path: string,
  options: EmbeddingTableOptions = {},
): Promise<{ embedder: TableEmbedder; output: "float32" | "float16" } | undefined> {
  const disk = options.disk ?? true;
  const model = await openFile(folder, path, options.signal, disk);
  if (!model) return undefined;
  const opened: Opened[] = [model];
  const unused = () => {
    if (model.bytes) options.spare?.set(path, model.bytes);
    return undefined;
  };
  try {
    let form: EmbeddingForm | undefined;
    try {
      form = recogniseEmbedding(readOnnxOutline(model.source));
    } catch (error) {
      if (error instanceof WireError) return unused();
      throw error;
    }
    if (!form) return unused();
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
    const externals = new Map<string, Opened>();
    const external = (location: string) => () => externals.get(location)!;
    const extra = form.kind === "row_scaled"
      ? [form.scales]
      : form.kind === "block_quantized"
      ? [form.scales, ...(form.zeroPoints ? [form.zeroPoints] : [])]
      : form.kind === "dequantize"
      ? [form.scale, ...(form.zeroPoint ? [form.zeroPoint] : [])]
      : [];
    for (const t of [form.table, ...extra]) {
      const b = t.bytes!;
      if (b.kind !== "external" || externals.has(b.location)) continue;
      const data = await openFile(folder, dir + b.location, options.signal, disk);
      if (!data) throw missing(dir + b.location, folder.location);
      externals.set(b.location, data);
      opened.push(data);
    }
    const small = (t: OutlineTensor) => {
      const b = t.bytes!;
      return tensorBytes(t, model, external(b.kind === "external" ? b.location : ""));
    };
    const rowDecoding = decoding(form, small);
    const vocab = form.table.dims[0];
    const hidden = form.kind === "block_quantized" ? form.hidden : form.table.dims[1];
    const rowBytes = rowBytesOf(rowDecoding, hidden);
    const b = form.table.bytes!;
    if (b.kind === "decoded" || b.length < vocab * rowBytes) return unused(); // tiny, or odd
    const holder = b.kind === "inline" ? model : externals.get(b.location)!;
    const rows = holder.rows(b.offset, vocab, rowBytes);
    // The file that holds the rows stays open (owned by `rows`); the others close now.
    for (const o of opened) if (o !== holder) o.close();
    opened.length = 0;
    return { embedder: new TableEmbedder(rows, hidden, rowDecoding), output: form.output };
  } finally {
    for (const o of opened) o.close();
  }
}
