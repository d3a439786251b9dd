/**
 * Checks the arguments of `parseDocTags`. The text itself can be anything,
 * but options outside their documented values would make the reader misbehave
 * (a `collapseRepeats` of 0 "collapses" an empty page, an infinite page size
 * puts Infinity into the JSON export), so they are refused up front.
 *
 * @module
 */
import { VlmError } from "../../src/errors/vlm_error.ts";
import type { PageSize } from "./document.ts";

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

function usage(message: string, fix: string): VlmError {
  return new VlmError("usage", `parseDocTags: ${message}`, { fix });
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function checkSize(size: unknown, where: string): void {
  const ok = typeof size === "object" && size !== null &&
    [(size as PageSize).width, (size as PageSize).height].every((v) =>
      typeof v === "number" && Number.isFinite(v) && v > 0 && v <= 1e9
    );
  if (!ok) {
    throw usage(
      `${where} must be { width, height } with positive finite numbers up to 1e9`,
      "give the page size in pixels, e.g. { width: 1024, height: 1448 }, or leave it out",
    );
  }
}

/** Throws a `usage` VlmError naming the first argument outside its documented values. */
export function checkParseOptions(input: unknown, options: unknown): void {
  const textOk = typeof input === "string" ||
    (Array.isArray(input) && input.every((page) => typeof page === "string"));
  if (!textOk) {
    throw usage(
      `the input is ${describe(input)}, not a string or an array of strings`,
      "pass the model's output text, or one string per page",
    );
  }
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw usage(`options are ${describe(options)}`, "pass an options object, or nothing");
  }
  const { compat, pages, pageSize, collapseRepeats } = options as ParseOptions;
  if (compat !== undefined && compat !== "docling") {
    throw usage(`compat is ${describe(compat)}`, 'use compat: "docling" or leave it out');
  }
  if (pages !== undefined && pages !== "auto" && pages !== "single" && pages !== "split") {
    throw usage(`pages is ${describe(pages)}`, 'use "auto", "single" or "split"');
  }
  if (pageSize !== undefined) {
    if (Array.isArray(pageSize)) pageSize.forEach((size, i) => checkSize(size, `pageSize[${i}]`));
    else checkSize(pageSize, "pageSize");
  }
  if (
    collapseRepeats !== undefined && collapseRepeats !== false &&
    !(Number.isSafeInteger(collapseRepeats) && (collapseRepeats as number) >= 2)
  ) {
    throw usage(
      `collapseRepeats is ${describe(collapseRepeats)}; it counts copies of a repeated element`,
      "use an integer of at least 2 (default 3), or false to keep every repeat",
    );
  }
}
