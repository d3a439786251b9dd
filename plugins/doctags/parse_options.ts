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
import type { ParseOptions } from "./parse.ts";

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
