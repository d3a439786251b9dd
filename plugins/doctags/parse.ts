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
import { checkParseOptions } from "./parse_options.ts";

/** Options of {@link parseDocTags}. */
export interface ParseOptions {
  /**
   * `"docling"`: read the input exactly as docling-core 2.87 does, losses
   * included, so exports match docling byte for byte. Default: tolerant
   * reading, which keeps content from malformed or truncated output.
   */
  compat?: "docling";
  /**
   * How a string input is split into pages. `"split"`: on `<page_break>`
   * (docling's multipage loader: a leading `<doctag>` and trailing
   * `</doctag>` are removed and every page is trimmed); `"single"`: one page;
   * `"auto"` (default): split when the text contains `<page_break>`.
   * An array input is always one string per page.
   */
  pages?: "auto" | "single" | "split";
  /**
   * Page size in pixels (one for all pages, or one per page). Locations are
   * scaled to it. Default 1×1: boxes hold page fractions, as in docling-core
   * when no page image is given. In docling-compatible mode, giving a size
   * also stands for "the page image is known", which makes docling keep list
   * item and key-value boxes.
   */
  pageSize?: PageSize | readonly PageSize[];
  /**
   * Tolerant mode: a run of at least this many identical consecutive elements
   * that reaches the end of a page, list or unclosed table (a generation
   * loop) is collapsed to one copy and reported. `false` keeps everything.
   * An integer of at least 2; default 3.
   */
  collapseRepeats?: number | false;
}

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
