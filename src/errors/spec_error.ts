import type { VlmIssue } from "./issue.ts";
import { VlmError } from "./vlm_error.ts";

/** One problem found in a variant spec (a {@linkcode VlmIssue}). */
export type SpecIssue = VlmIssue;

/** Thrown when a variant spec fails schema or cross-field validation. */
export class SpecValidationError extends VlmError {
  /** Creates the error from the list of issues (at least one); `issues` holds every one. */
  constructor(specName: string, issues: readonly SpecIssue[]) {
    const lines = issues.map((issue) =>
      `  - ${issue.path || "(root)"}: ${issue.message}${issue.fix ? ` (fix: ${issue.fix})` : ""}`
    );
    super(
      "spec_invalid",
      `variant spec "${specName}" is invalid (${issues.length} issue${
        issues.length === 1 ? "" : "s"
      }):\n${lines.join("\n")}`,
      { fix: issues[0]?.fix, issues },
    );
    this.name = "SpecValidationError";
  }
}
