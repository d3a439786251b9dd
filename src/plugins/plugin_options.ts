/**
 * Option parsing for plugin factories: zod validation whose failures name the
 * plugin, the option and the fix, as typed `input_invalid` errors.
 *
 * @module
 */
import type { Schema } from "./types.ts";
import { VlmError } from "../errors/vlm_error.ts";

/** Parses `options` for plugin `name` with `schema` (defaults applied by the schema). */
export function parsePluginOptions<T>(name: string, schema: Schema<T>, options: unknown): T {
  const parsed = schema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue.path.map(String).join(".") || "(options)";
  throw new VlmError("input_invalid", `plugin "${name}": option ${path}: ${issue.message}`, {
    fix: `check the options passed to ${name}()`,
  });
}
