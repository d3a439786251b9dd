/**
 * Gives a parsed document the caller's page numbers. The parser numbers the
 * pages it is given 1..n; a document converted from pages 2, 5 and 9 of a PDF
 * keeps 2, 5 and 9.
 *
 * @module
 */
import type { DocTagsDocument } from "./document.ts";
import { docItems } from "./traverse.ts";
import type { ParseIssue } from "./issues.ts";

/** Rewrites page `i + 1` to `pageNos[i]` in pages, elements and issues, in place. */
export function renumberPages(
  doc: DocTagsDocument,
  issues: ParseIssue[],
  pageNos: readonly number[],
): void {
  const map = (page: number) => pageNos[page - 1] ?? page;
  // docItems reaches every element, members of nested groups included.
  for (const block of doc.body) {
    for (const { node } of docItems(block)) node.page = map(node.page);
  }
  for (const page of doc.pages) page.pageNo = map(page.pageNo);
  for (const issue of issues) issue.page = map(issue.page);
}
