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
import { bf16ToF32, f16ToF32 } from "./float_formats.ts";
import { headerLength, parseHeader, type SafetensorsEntry } from "./safetensors_header.ts";

/** An open safetensors file. */
export interface SafetensorsFile {
  /** The path it was opened from. */
  readonly path: string;
  /** Its tensors' header entries by name. */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /** Reads tensor `name` as float32 (BF16 and F16 widened). */
  read(name: string): WeightTensor;
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
      read(name) {
        const entry = header.entries.get(name);
        if (!entry) {
          throw new VlmError("model_mismatch", `${path} has no tensor ${name}`, {
            fix: "check the tensor name and --prefix",
          });
        }
        const bytes = readExactly(
          file,
          path,
          entry.end - entry.begin,
          header.dataStart + entry.begin,
        );
        // The data is little-endian, as is every host vlmkit runs on; the fresh buffer is aligned.
        const data = entry.dtype === "F32"
          ? new Float32Array(bytes.buffer)
          : entry.dtype === "BF16"
          ? bf16ToF32(new Uint16Array(bytes.buffer))
          : f16ToF32(new Uint16Array(bytes.buffer));
        return { dims: [...entry.shape], data };
      },
      close: () => file.close(),
    };
  } catch (error) {
    file.close();
    throw error;
  }
}
