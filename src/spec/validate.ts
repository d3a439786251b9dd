/**
 * Validation of untrusted spec JSON: zod for shape and ranges, then the
 * cross-field rules. Never throws for a bad spec in `validateSpec`; `parseSpec`
 * throws one {@linkcode SpecValidationError} listing every issue.
 *
 * @module
 */
import type { z } from "npm:zod@4.6.7";
import { type SpecIssue, SpecValidationError } from "../errors/spec_error.ts";
import { specShapeIssue } from "./input_shape.ts";
import { checkCrossFieldRules } from "./rules.ts";
import { variantSpecSchema } from "./schema.ts";
import type { VariantSpec } from "./types.ts";

/** Result of {@linkcode validateSpec}. */
export type SpecValidation =
  | { valid: true; spec: VariantSpec; issues: [] }
  | { valid: false; issues: SpecIssue[] };

function zodIssueToSpecIssue(issue: z.core.$ZodIssue): SpecIssue {
  const path = issue.path.map(String).join(".");
  let fix: string | undefined;
  if (issue.code === "unrecognized_keys") {
    fix = `remove or correct ${issue.keys.map((key) => `'${key}'`).join(", ")}`;
  } else if (issue.code === "invalid_type" && issue.input === undefined) {
    fix = "every field is required: set it explicitly";
  } else if (issue.code === "invalid_value") {
    fix = `use one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
  }
  return { path, message: issue.message, ...(fix ? { fix } : {}) };
}

/** Validates `input` as a variant spec and returns every issue found. */
export function validateSpec(input: unknown): SpecValidation {
  const shape = specShapeIssue(input);
  if (shape) return { valid: false, issues: [shape] };
  const parsed = variantSpecSchema.safeParse(input);
  if (!parsed.success) {
    return { valid: false, issues: parsed.error.issues.map(zodIssueToSpecIssue) };
  }
  const issues = checkCrossFieldRules(parsed.data);
  return issues.length === 0
    ? { valid: true, spec: parsed.data, issues: [] }
    : { valid: false, issues };
}

/** Validates `input` and returns the typed spec, or throws {@linkcode SpecValidationError}. */
export function parseSpec(input: unknown): VariantSpec {
  const result = validateSpec(input);
  if (result.valid) return result.spec;
  // Only a string name is shown: any other value is untrusted data (an object
  // with a `toString` key, an array nested thousands deep) that String() would run.
  const name = typeof input === "object" && input !== null && Object.hasOwn(input, "name") &&
      typeof (input as { name: unknown }).name === "string"
    ? (input as { name: string }).name.slice(0, 100)
    : "(unnamed)";
  throw new SpecValidationError(name, result.issues);
}
