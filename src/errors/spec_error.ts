import { VlmError } from "./vlm_error.ts";

/** One problem found in a variant spec. */
export interface SpecIssue {
  /** Dotted path of the offending field, e.g. `projector.scaleFactor`. */
  path: string;
  /** What is wrong. */
  message: string;
  /** How to fix it, when a fix can be named. */
  fix?: string;
}

/** Thrown when a variant spec fails schema or cross-field validation. */
export class SpecValidationError extends VlmError {
  /** Every issue found; validation does not stop at the first one. */
  readonly issues: readonly SpecIssue[];

  /** Creates the error from the list of issues (at least one). */
  constructor(specName: string, issues: readonly SpecIssue[]) {
    const lines = issues.map((issue) =>
      `  - ${issue.path || "(root)"}: ${issue.message}${issue.fix ? ` (fix: ${issue.fix})` : ""}`
    );
    super(
      "spec_invalid",
      `variant spec "${specName}" is invalid (${issues.length} issue${
        issues.length === 1 ? "" : "s"
      }):\n${lines.join("\n")}`,
      { fix: issues[0]?.fix },
    );
    this.name = "SpecValidationError";
    this.issues = issues;
  }
}
