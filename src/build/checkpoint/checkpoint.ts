/**
 * A checkpoint folder: `model.safetensors`, or shards listed by
 * `model.safetensors.index.json` (`weight_map`: tensor → shard file). A path
 * to a single `.safetensors` file is accepted too.
 *
 * @module
 */
import { VlmError } from "../../errors/vlm_error.ts";
import { platform } from "../../platform/current.ts";
import type { Platform } from "../../platform/types.ts";
import type { WeightTensor } from "../seeded_weights.ts";
import { openForReading, openSafetensors, type SafetensorsFile } from "./safetensors_file.ts";
import type { SafetensorsEntry } from "./safetensors_header.ts";

/** The index file of a sharded checkpoint. */
export const INDEX_FILE = "model.safetensors.index.json";
/** The file of a single-file checkpoint. */
export const SINGLE_FILE = "model.safetensors";

/** An open checkpoint: every tensor's header entry, and reads by name. */
export interface Checkpoint {
  /** The folder or file it was opened from. */
  readonly location: string;
  /** Header entry and file of a tensor, or `undefined` when absent. */
  entry(name: string): { entry: SafetensorsEntry; file: string } | undefined;
  /** Every tensor name. */
  names(): string[];
  /** Reads one tensor as float32, `[rows, ...]` → `[..., rows]` with `transpose`. */
  read(name: string, transpose?: boolean): WeightTensor;
  /** Closes every file. */
  close(): void;
}

function join(folder: string, file: string): string {
  return `${folder.replace(/[/\\]$/, "")}/${file}`;
}

function exists(path: string, host: Platform): boolean {
  const file = host.openReadOnly?.(path);
  file?.close();
  return file !== undefined;
}

function readJsonFile(path: string, host: Platform): unknown {
  const file = openForReading(path, host);
  try {
    const bytes = new Uint8Array(file.size);
    file.readAt(bytes, 0);
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    if (error instanceof VlmError) throw error;
    throw new VlmError("model_invalid", `${path} is not valid JSON: ${(error as Error).message}`, {
      fix: `restore ${path}: it maps each tensor name to its shard file`,
    });
  } finally {
    file.close();
  }
}

/** The shard files by tensor name, from an index file. */
function weightMap(path: string, host: Platform): Map<string, string> {
  const index = readJsonFile(path, host) as { weight_map?: unknown };
  const map = index?.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new VlmError("model_invalid", `${path} has no weight_map object`, {
      fix: `restore ${path}: it maps each tensor name to its shard file`,
    });
  }
  const out = new Map<string, string>();
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== "string" || file.includes("..") || file.startsWith("/")) {
      throw new VlmError(
        "model_invalid",
        `${path}: tensor ${name} maps to ${JSON.stringify(file)}`,
        {
          fix: "each weight_map value must be a shard file name inside the folder",
        },
      );
    }
    out.set(name, file);
  }
  return out;
}

/** Opens a checkpoint folder (or one `.safetensors` file). */
export function openCheckpoint(location: string, host: Platform = platform()): Checkpoint {
  const files: SafetensorsFile[] = [];
  const owner = new Map<string, SafetensorsFile>();
  try {
    if (location.endsWith(".safetensors")) {
      files.push(openSafetensors(location, host));
    } else if (exists(join(location, INDEX_FILE), host)) {
      const indexPath = join(location, INDEX_FILE);
      const map = weightMap(indexPath, host);
      const shards = new Map<string, SafetensorsFile>();
      for (const [name, shard] of map) {
        let file = shards.get(shard);
        if (!file) {
          file = openSafetensors(join(location, shard), host);
          shards.set(shard, file);
          files.push(file);
        }
        if (!file.entries.has(name)) {
          throw new VlmError(
            "model_invalid",
            `${indexPath} puts tensor ${name} in ${shard}, which does not hold it`,
            { fix: `restore ${shard} or the index file` },
          );
        }
        owner.set(name, file);
      }
    } else {
      files.push(openSafetensors(join(location, SINGLE_FILE), host));
    }
  } catch (error) {
    for (const file of files) file.close();
    throw error;
  }
  if (owner.size === 0) {
    for (const file of files) for (const name of file.entries.keys()) owner.set(name, file);
  }
  return {
    location,
    entry(name) {
      const file = owner.get(name);
      return file && { entry: file.entries.get(name)!, file: file.path };
    },
    names: () => [...owner.keys()],
    read(name, transpose) {
      const file = owner.get(name);
      if (!file) {
        throw new VlmError("model_mismatch", `${location} has no tensor ${name}`, {
          fix: "check the tensor name and --prefix",
        });
      }
      return file.read(name, transpose);
    },
    close() {
      for (const file of files) file.close();
    },
  };
}
