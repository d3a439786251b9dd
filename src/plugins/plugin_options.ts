/**
 * Option parsing for plugin factories: zod validation whose failures name the
 * plugin, the option and the fix, as typed `input_invalid` errors.
 *
 * @module
 */
import type { Schema } from "./types.ts";
import { schemaIssues } from "../errors/issue.ts";
import { VlmError } from "../errors/vlm_error.ts";

/**
 * Parses `options` for plugin `name` with `schema` (defaults applied by the
 * schema); invalid options get one error naming every bad option.
 */
export function parsePluginOptions<T>(name: string, schema: Schema<T>, options: unknown): T {
  const parsed = schema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const issues = schemaIssues(parsed.error.issues, `check the options passed to ${name}()`)
    .map((issue) => ({ ...issue, path: `option ${issue.path || "(options)"}` }));
  throw VlmError.fromIssues("input_invalid", `plugin "${name}"`, issues);
}
