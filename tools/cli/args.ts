/**
 * Command-line parsing on top of `node:util` `parseArgs` (strict: unknown
 * flags are errors), turning its exceptions into {@linkcode UsageError}s that
 * point at the command's `--help`.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../../src/errors/usage_error.ts";
import type { BackendName } from "../../src/runtime/backend.ts";
import { DTYPE_SUFFIX } from "../../src/spec/resolve.ts";
import type { Dtype } from "../../src/spec/types.ts";

/** Option table in `node:util` format. */
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flags and positionals. */
export interface ParsedArgs {
  /** Flag values by name. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Positional arguments. */
  positionals: string[];
}

/** Parses `args` for `command`; every command also accepts `--json` (`--help` is handled by the dispatcher). */
export function parseCommandArgs(command: string, args: string[], options: OptionSpec): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: {
        help: { type: "boolean", short: "h" },
        json: { type: "boolean" },
        ...options,
      },
      strict: true,
      allowPositionals: true,
    });
    return { values, positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`vlm ${command}: ${message}`, `run \`vlm ${command} --help\``);
  }
}

/** A required string flag, or a usage error naming it. */
export function requireString(command: string, parsed: ParsedArgs, name: string): string {
  const value = parsed.values[name];
  if (typeof value !== "string" || value.length === 0) {
    throw new UsageError(`vlm ${command}: --${name} is required`, `run \`vlm ${command} --help\``);
  }
  return value;
}

/** Parses `WxH` (e.g. `640x480`) into a size. */
export function parseSize(command: string, text: string): { width: number; height: number } {
  const match = /^(\d+)[x×X](\d+)$/.exec(text.trim());
  const width = match ? Number(match[1]) : NaN;
  const height = match ? Number(match[2]) : NaN;
  if (!match || width < 1 || height < 1 || !Number.isSafeInteger(width * height)) {
    throw new UsageError(
      `vlm ${command}: "${text}" is not an image size`,
      "write sizes as WIDTHxHEIGHT with positive integers, e.g. --image 640x480",
    );
  }
  return { width, height };
}

/** An optional number flag within [min, max] (integer when `integer`), or a usage error. */
export function optionalNumber(
  command: string,
  parsed: ParsedArgs,
  name: string,
  range: { min: number; max: number; integer?: boolean },
): number | undefined {
  const raw = parsed.values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (
    typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(value) ||
    value < range.min || value > range.max || (range.integer && !Number.isInteger(value))
  ) {
    throw new UsageError(
      `vlm ${command}: --${name} must be ${
        range.integer ? "an integer" : "a number"
      } in [${range.min}, ${range.max}], got "${raw}"`,
      `run \`vlm ${command} --help\``,
    );
  }
  return value;
}

/** `--backend`: wasm (default) or native, or a usage error. */
export function parseBackend(command: string, parsed: ParsedArgs): BackendName {
  const backend = parsed.values.backend ?? "wasm";
  if (backend !== "wasm" && backend !== "native") {
    throw new UsageError(
      `vlm ${command}: unknown backend "${backend}"`,
      "use --backend wasm or --backend native",
    );
  }
  return backend;
}

/**
 * `--dtype`: one of the ONNX file variants, or a usage error; `undefined`
 * when absent, so loading detects the form from the folder's files.
 */
export function parseDtype(command: string, parsed: ParsedArgs): Dtype | undefined {
  if (parsed.values.dtype === undefined) return undefined;
  const dtype = parsed.values.dtype as Dtype;
  if (!(dtype in DTYPE_SUFFIX)) {
    throw new UsageError(
      `vlm ${command}: unknown dtype "${dtype}"`,
      `use one of ${Object.keys(DTYPE_SUFFIX).join(", ")}`,
    );
  }
  return dtype;
}
