/**
 * Page selections as people type them: `1-3,7`, `5-` (to the end), `all`.
 * Pure functions, so the CLI, the server and the library read them alike.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";

function invalid(spec: string, why: string, pageCount: number): VlmError {
  return new VlmError("input_invalid", `the page selection "${spec}" is invalid: ${why}`, {
    fix: `list pages and ranges between 1 and ${pageCount}, e.g. "1-3,7" or "2-"`,
  });
}

/**
 * The pages `spec` selects from a document of `pageCount` pages: sorted,
 * without repeats. Parts are separated by commas: `N`, `A-B` (A ≤ B), `A-`
 * (A to the last page); `all` or an empty selection means every page.
 * Fails with `input_invalid` naming the bad part.
 *
 * @example
 * ```ts
 * parsePageRanges("1-3,7", 10); // [1, 2, 3, 7]
 * ```
 */
export function parsePageRanges(spec: string, pageCount: number): number[] {
  const text = spec.trim();
  if (text === "" || text.toLowerCase() === "all") {
    return Array.from({ length: pageCount }, (_, i) => i + 1);
  }
  const pages = new Set<number>();
  for (const raw of text.split(",")) {
    const part = raw.trim();
    const match = /^(\d+)\s*(?:(-)\s*(\d+)?)?$/.exec(part);
    if (!match) throw invalid(spec, `"${part}" is not a page number or a range`, pageCount);
    const first = Number(match[1]);
    const last = match[2] ? (match[3] === undefined ? pageCount : Number(match[3])) : first;
    if (first < 1) throw invalid(spec, "pages are numbered from 1", pageCount);
    if (last < first) throw invalid(spec, `the range "${part}" runs backwards`, pageCount);
    if (first > pageCount || last > pageCount) {
      throw invalid(spec, `"${part}" is past the last page (${pageCount})`, pageCount);
    }
    for (let page = first; page <= last; page++) pages.add(page);
  }
  return [...pages].sort((a, b) => a - b);
}

/** The shortest `1-3,7` form of a set of page numbers (inverse of {@linkcode parsePageRanges}). */
export function formatPageRanges(pages: Iterable<number>): string {
  const sorted = [...new Set(pages)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
