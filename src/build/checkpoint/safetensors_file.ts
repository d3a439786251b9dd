/**
 * One safetensors file, opened for reading one tensor at a time: only the
 * header is read up front; each tensor is read at its offset when asked for,
 * so memory holds one tensor, never the whole file.
 *
 * @module
 */
import { VlmError } from "../../errors/vlm_error.ts";
import { platform } from "../../platform/current.ts";
import type { Platform, ReadOnlyFile } from "../../platform/types.ts";
import type { WeightTensor } from "../seeded_weights.ts";
import { f16ToF32 } from "./float_formats.ts";
import {
  headerLength,
  parseHeader,
  SAFETENSORS_DTYPES,
  type SafetensorsEntry,
} from "./safetensors_header.ts";

/** An open safetensors file. */
export interface SafetensorsFile {
  /** The path it was opened from. */
  readonly path: string;
  /** Its tensors' header entries by name. */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /**
   * Reads tensor `name` as float32 (BF16 and F16 widened); `transpose` turns
   * `[rows, ...rest]` into `[rest product, rows]` (torch `Linear` → the builder's matrices).
   */
  read(name: string, transpose?: boolean): WeightTensor;
  /** Closes the file. */
  close(): void;
}

/** Opens the file for synchronous reads, or explains why the host cannot. */
export function openForReading(path: string, host: Platform): ReadOnlyFile {
  if (!host.openReadOnly) {
    throw new VlmError("usage", `cannot read ${path}: the ${host.name} host has no file system`, {
      fix: "convert checkpoints under Deno or Node",
    });
  }
  const file = host.openReadOnly(path);
  if (!file) {
    throw new VlmError("model_invalid", `${path} does not exist`, {
      fix: "point at a folder holding model.safetensors or model.safetensors.index.json",
    });
  }
  return file;
}

function readExactly(file: ReadOnlyFile, path: string, length: number, position: number) {
  const bytes = new Uint8Array(length);
  const count = file.readAt(bytes, position);
  if (count !== length) {
    throw new VlmError(
      "model_invalid",
      `${path}: read ${count} of ${length} bytes at ${position}: the file shrank while open`,
      { fix: `restore ${path} and convert again` },
    );
  }
  return bytes;
}

/** Bytes read per positioned read: the only memory a tensor read needs besides its result. */
const CHUNK_BYTES = 1 << 22;

/**
 * Reads one tensor in row chunks straight into its float32 result (widened
 * and, with `transpose`, transposed on the way), so no full-size intermediate
 * copy is made.
 */
function readTensor(
  file: ReadOnlyFile,
  path: string,
  entry: SafetensorsEntry,
  dataStart: number,
  transpose: boolean,
): WeightTensor {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const size = SAFETENSORS_DTYPES[entry.dtype];
  const rows = entry.shape.length === 0 ? 1 : entry.shape[0];
  const cols = rows === 0 ? 0 : count / rows;
  const out = new Float32Array(count);
  const outBits = new Uint32Array(out.buffer);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, cols * size)));
  const buffer = new ArrayBuffer(Math.min(rowsPerChunk, rows) * cols * size);
  for (let r0 = 0; r0 < rows; r0 += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, rows - r0);
    const bytes = new Uint8Array(buffer, 0, n * cols * size);
    const position = dataStart + entry.begin + r0 * cols * size;
    const got = file.readAt(bytes, position);
    if (got !== bytes.length) {
      throw new VlmError(
        "model_invalid",
        `${path}: tensor ${entry.name}: read ${got} of ${bytes.length} bytes at ${position}: the file shrank while open`,
        { fix: `restore ${path} and convert again` },
      );
    }
    // The data is little-endian, as is every host vlmkit runs on; the buffer is aligned.
    if (entry.dtype === "BF16") {
      const bits = new Uint16Array(buffer, 0, n * cols);
      if (!transpose) {
        for (let i = 0; i < bits.length; i++) outBits[r0 * cols + i] = bits[i] << 16;
      } else {
        for (let r = 0; r < n; r++) {
          for (let c = 0; c < cols; c++) outBits[c * rows + r0 + r] = bits[r * cols + c] << 16;
        }
      }
      continue;
    }
    const values = entry.dtype === "F32"
      ? new Float32Array(buffer, 0, n * cols)
      : f16ToF32(new Uint16Array(buffer, 0, n * cols));
    if (!transpose) out.set(values, r0 * cols);
    else {
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < cols; c++) out[c * rows + r0 + r] = values[r * cols + c];
      }
    }
  }
  return { dims: transpose ? [cols, rows] : [...entry.shape], data: out };
}

/** Opens `path` and checks its header (see `safetensors_header.ts`). */
export function openSafetensors(path: string, host: Platform = platform()): SafetensorsFile {
  const file = openForReading(path, host);
  try {
    const prefix = readExactly(file, path, Math.min(8, file.size), 0);
    const length = headerLength(prefix, file.size, path);
    const header = parseHeader(readExactly(file, path, length, 8), file.size, path);
    return {
      path,
      entries: header.entries,
      read(name, transpose = false) {
        const entry = header.entries.get(name);
        if (!entry) {
          throw new VlmError("model_mismatch", `${path} has no tensor ${name}`, {
            fix: "check the tensor name and --prefix",
          });
        }
        return readTensor(file, path, entry, header.dataStart, transpose);
      },
      close: () => file.close(),
    };
  } catch (error) {
    file.close();
    throw error;
  }
}
