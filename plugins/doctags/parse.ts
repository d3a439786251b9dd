/**
 * `parseDocTags`: DocTags text in, typed document and issues out. Never
 * throws on any text; only options outside their documented values are
 * refused (a `VlmError` with code `usage`).
 *
 * @module
 */
import type { DocTagsDocument, PageSize } from "./document.ts";
import type { ParseIssue } from "./issues.ts";
import { parseReference } from "./reference_parser.ts";
import { parseTolerant } from "./tolerant_parser.ts";
import { pyStrip } from "./python.ts";
import { checkParseOptions, type ParseOptions } from "./parse_options.ts";

export type { ParseOptions } from "./parse_options.ts";

/** What {@link parseDocTags} returns. */
export interface ParseResult {
  /** The document. */
  document: DocTagsDocument;
  /** Everything that was repaired, dropped or guessed, in input order. */
  issues: ParseIssue[];
}

/** Splits one DocTags string into pages the way the options ask. */
export function splitPages(text: string, mode: ParseOptions["pages"] = "auto"): string[] {
  if (mode === "single" || (mode === "auto" && !text.includes("<page_break>"))) return [text];
  let body = text;
  if (body.startsWith("<doctag>")) body = body.slice("<doctag>".length);
  if (body.endsWith("</doctag>")) body = body.slice(0, -"</doctag>".length);
  return body.split("<page_break>").map(pyStrip);
}

/**
 * Parses DocTags (raw model output is fine: a leading `Assistant:` and
 * trailing stop tokens are ignored) into a typed document. Never throws on
 * any text: problems are listed in `issues`. Options outside their documented
 * values (a `collapseRepeats` below 2, a page size that is not a positive
 * finite number, ...) throw a `VlmError` with code `usage`.
 *
 * @example
 * ```ts
 * const { document, issues } = parseDocTags("<doctag><title>Hello</title></doctag>");
 * ```
 */
export function parseDocTags(
  input: string | readonly string[],
  options: ParseOptions = {},
): ParseResult {
  checkParseOptions(input, options);
  const pages = typeof input === "string" ? splitPages(input, options.pages) : [...input];
  const given = options.pageSize;
  const sizes: PageSize[] = pages.map((_, i) =>
    given === undefined
      ? { width: 1, height: 1 }
      : Array.isArray(given)
      ? (given as readonly PageSize[])[i] ?? { width: 1, height: 1 }
      : given as PageSize
  );
  if (options.compat === "docling") return parseReference(pages, sizes, given !== undefined);
  return parseTolerant(pages, sizes, { collapseRepeats: options.collapseRepeats ?? 3 });
}
