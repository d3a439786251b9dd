/**
 * Spec validation issues of a spec read from Hugging Face config files, told in
 * terms of those files: the user never wrote the spec, so a message about
 * `decoder.headDim` would send them looking for a field that does not exist.
 *
 * @module
 */
import type { SpecIssue } from "../errors/spec_error.ts";
import { VlmError } from "../errors/vlm_error.ts";
import type { ConfigKey, HfConfigCodec, HfFiles } from "./types.ts";

const FILE_OBJECTS: Record<string, keyof HfFiles> = {
  "config.json": "config",
  "preprocessor_config.json": "preprocessor",
  "processor_config.json": "processor",
  "generation_config.json": "generation",
};

/** The config keys an issue's spec path was read from (longest matching prefix), or none. */
export function configKeysOf(
  path: string,
  sources: HfConfigCodec["sources"],
): readonly ConfigKey[] {
  const parts = path.split(".");
  for (let n = parts.length; n > 0; n--) {
    const keys = sources[parts.slice(0, n).join(".")];
    if (keys) return keys;
  }
  return [];
}

/** The value at a dotted `key` of a file, as the message shows it (`absent` when missing). */
function valueOf(files: HfFiles, { file, key }: ConfigKey): string {
  const object = FILE_OBJECTS[file];
  let value: unknown = object ? files[object] : undefined;
  for (const part of key.split(".")) {
    value = typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)[part]
      : undefined;
  }
  return value === undefined ? "absent" : JSON.stringify(value);
}

/** `a, b or c`. */
function either(items: readonly string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** One issue as a line naming the files and keys it comes from. */
function describe(issue: SpecIssue, keys: readonly ConfigKey[], files: HfFiles): string {
  if (keys.length === 0) return `derived field ${issue.path}: ${issue.message}`;
  const named = keys.map((k) => `${k.file} ${k.key} = ${valueOf(files, k)}`).join(", ");
  return `${named}: ${issue.message}`;
}

/**
 * The `model_invalid` error for `issues` found in the spec that `codec` read
 * from `files` of the folder at `location`: each issue names the file and keys
 * behind it, and the fix says which keys to correct in which file.
 */
export function configIssuesError(
  issues: readonly SpecIssue[],
  codec: HfConfigCodec,
  files: HfFiles,
  location: string,
  cause?: unknown,
): VlmError {
  const keyed = issues.map((issue) => ({ issue, keys: configKeysOf(issue.path, codec.sources) }));
  const lines = keyed.map(({ issue, keys }) => `  - ${describe(issue, keys, files)}`);
  const first = keyed.find(({ keys }) => keys.length > 0);
  const fileNames = [...new Set(first?.keys.map((k) => k.file) ?? [])];
  const fix = first
    ? `correct ${either(first.keys.map((k) => k.key))} in ${
      fileNames.join(" / ")
    } so they describe the model the ONNX files were exported from, or restore ${
      fileNames.join(" and ")
    } from the model's published copy`
    : "restore the folder's config and tokenizer files from the model's published copy";
  return new VlmError(
    "model_invalid",
    `the config files of ${location} describe an invalid model (${issues.length} issue${
      issues.length === 1 ? "" : "s"
    }):\n${lines.join("\n")}`,
    { fix, cause },
  );
}
