/**
 * Resolving the `--variant` / `<spec>` argument: a path to a spec JSON file or
 * the name of a built-in preset.
 *
 * @module
 */
import { VlmError } from "../../src/errors/vlm_error.ts";
import type { VariantSpec } from "../../src/spec/types.ts";
import { parseSpec } from "../../src/spec/validate.ts";
import { getPreset, PRESET_JSON } from "../../variants/mod.ts";

function looksLikePath(source: string): boolean {
  return source.endsWith(".json") || source.includes("/") || source.includes("\\");
}

/** Reads the raw JSON of a spec file or preset, without validating it. */
export function readVariantJson(source: string): unknown {
  if (!looksLikePath(source)) {
    if (source in PRESET_JSON) return PRESET_JSON[source];
    return getPreset(source); // grid members, or a spec_not_found error with suggestions
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(source);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "no such file" : String(error);
    throw new VlmError("spec_not_found", `cannot read spec file ${source}: ${reason}`, {
      fix: "pass an existing .json spec file or a preset name (see `vlm validate --list`)",
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new VlmError("spec_invalid", `${source} is not valid JSON: ${(error as Error).message}`, {
      fix: "fix the JSON syntax at the position named above",
      cause: error,
    });
  }
}

/** Reads and validates a spec file or preset. */
export function loadVariant(source: string): VariantSpec {
  return parseSpec(readVariantJson(source));
}
