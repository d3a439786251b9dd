/**
 * The safetensors header: 8 bytes of little-endian header length, a JSON
 * object `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?}`
 * (padded with spaces), then the raw little-endian tensor data, offsets
 * counted from the end of the header. Parsing checks everything the data
 * reads will rely on, so a bad file fails before any tensor is used.
 *
 * @module
 */
import { VlmError } from "../../errors/vlm_error.ts";

/** An element type vlmkit reads. */
export type SafetensorsDtype = "F32" | "BF16" | "F16";

/** Element types vlmkit reads, and their sizes in bytes. */
export const SAFETENSORS_DTYPES: Readonly<Record<SafetensorsDtype, number>> = {
  F32: 4,
  BF16: 2,
  F16: 2,
};

/** One tensor's header entry, offsets relative to the start of the data section. */
export interface SafetensorsEntry {
  /** Tensor name. */
  name: string;
  /** Element type. */
  dtype: SafetensorsDtype;
  /** Shape. */
  shape: number[];
  /** First byte in the data section. */
  begin: number;
  /** One past the last byte. */
  end: number;
}

/** A parsed header. */
export interface SafetensorsHeader {
  /** Byte position of the data section in the file (8 + header length). */
  dataStart: number;
  /** Tensors by name. */
  entries: Map<string, SafetensorsEntry>;
  /** `__metadata__` strings. */
  metadata: Record<string, string>;
}

/** Largest header accepted (the reference implementation's limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

function invalid(file: string, what: string, tensor?: string): VlmError {
  return new VlmError(
    "model_invalid",
    `${file}: ${tensor === undefined ? "" : `tensor ${tensor}: `}${what}`,
    { fix: `re-save ${file} as safetensors (F32, BF16 or F16 tensors), or restore the full file` },
  );
}

/** The header length from the first 8 bytes; checks it against the file size. */
export function headerLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.length < 8) {
    throw invalid(file, `truncated: ${fileSize} bytes, shorter than the 8-byte header length`);
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(fileSize - 8)) {
    throw invalid(
      file,
      `header length ${length} runs past the end of the file (${fileSize} bytes)`,
    );
  }
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw invalid(file, `header length ${length} exceeds ${MAX_HEADER_BYTES} bytes`);
  }
  return Number(length);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Parses and checks the JSON header of a file of `fileSize` bytes. */
export function parseHeader(json: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const dataStart = 8 + json.length;
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (error) {
    throw invalid(file, `header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw invalid(file, "header is not a JSON object");
  }
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof entry !== "object" || entry === null) {
      throw invalid(file, "entry is not an object", name);
    }
    const dtype = entry.dtype;
    if (typeof dtype !== "string" || !(dtype in SAFETENSORS_DTYPES)) {
      throw invalid(
        file,
        `dtype ${JSON.stringify(dtype)} is not one of ${
          Object.keys(SAFETENSORS_DTYPES).join(", ")
        }`,
        name,
      );
    }
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw invalid(file, `shape ${JSON.stringify(shape)} is not a list of sizes`, name);
    }
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw invalid(file, `data_offsets ${JSON.stringify(offsets)} is not [begin, end]`, name);
    }
    const [begin, end] = offsets as number[];
    const bytes = shape.reduce((a: number, b: number) => a * b, 1) *
      SAFETENSORS_DTYPES[dtype as SafetensorsDtype];
    if (end < begin || end - begin !== bytes) {
      throw invalid(
        file,
        `data_offsets [${begin}, ${end}] hold ${end - begin} bytes; ${dtype} ${
          JSON.stringify(shape)
        } needs ${bytes}`,
        name,
      );
    }
    if (dataStart + end > fileSize) {
      throw invalid(
        file,
        `data ends at byte ${
          dataStart + end
        }, past the end of the file (${fileSize} bytes): truncated`,
        name,
      );
    }
    entries.set(name, { name, dtype: dtype as SafetensorsDtype, shape, begin, end });
  }
  const sorted = [...entries.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      throw invalid(
        file,
        `data [${sorted[i].begin}, ${sorted[i].end}] overlaps ${sorted[i - 1].name} [${
          sorted[i - 1].begin
        }, ${sorted[i - 1].end}]`,
        sorted[i].name,
      );
    }
  }
  return { dataStart, entries, metadata };
}

/** A tensor to write: its header fields and its little-endian bytes. */
export interface SafetensorsTensor {
  /** Tensor name. */
  name: string;
  /** Element type. */
  dtype: SafetensorsDtype;
  /** Shape. */
  shape: number[];
  /** Raw data (length = elements × dtype size). */
  bytes: Uint8Array;
}

/**
 * The header bytes (length prefix + JSON, space-padded to 8 bytes) for
 * tensors laid out one after another in the given order.
 */
export function encodeHeader(
  tensors: readonly Omit<SafetensorsTensor, "bytes">[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const body = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
  out.set(body, 8);
  return out;
}

/** A whole safetensors file in memory (tests and small tools). */
export function encodeSafetensors(
  tensors: readonly SafetensorsTensor[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header = encodeHeader(tensors, metadata);
  const total = tensors.reduce((sum, t) => sum + t.bytes.length, header.length);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let offset = header.length;
  for (const t of tensors) {
    out.set(t.bytes, offset);
    offset += t.bytes.length;
  }
  return out;
}
