/**
 * One problem found while validating input. Validators collect every issue
 * before they throw, so a caller fixes a request in one round instead of one
 * problem at a time.
 *
 * @module
 */

/** One problem in a validated value. */
export interface VlmIssue {
  /** Dotted path of the offending field, e.g. `projector.scaleFactor` or `maxNewTokens`. */
  path: string;
  /** What is wrong. */
  message: string;
  /** How to fix it, when a fix can be named. */
  fix?: string;
}

/** The issues of a failed schema parse (zod's shape), paths joined with dots. */
export function schemaIssues(
  issues: readonly { message: string; path: readonly PropertyKey[] }[],
  fix?: string,
): VlmIssue[] {
  return issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
    ...(fix ? { fix } : {}),
  }));
}

/**
 * A message listing every issue under `head`: one issue stays on one line
 * (its fix is the error's), several become an indented list with their fixes.
 */
export function issuesMessage(head: string, issues: readonly VlmIssue[]): string {
  if (issues.length === 1) {
    const [issue] = issues;
    return `${head}: ${issue.path ? `${issue.path}: ` : ""}${issue.message}`;
  }
  const line = (issue: VlmIssue) =>
    `  - ${issue.path || "(root)"}: ${issue.message}${issue.fix ? ` (fix: ${issue.fix})` : ""}`;
  return `${head} (${issues.length} issues):\n${issues.map(line).join("\n")}`;
}
