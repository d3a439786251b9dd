/**
 * Gives a parsed document the caller's page numbers. The parser numbers the
 * pages it is given 1..n; a document converted from pages 2, 5 and 9 of a PDF
 * keeps 2, 5 and 9.
 *
 * @module
 */
import type { BlockNode, DocTagsDocument, ListNode, NodeBase } from "./document.ts";
import type { ParseIssue } from "./issues.ts";

/** Rewrites page `i + 1` to `pageNos[i]` in pages, elements and issues, in place. */
export function renumberPages(
  doc: DocTagsDocument,
  issues: ParseIssue[],
  pageNos: readonly number[],
): void {
  const map = (page: number) => pageNos[page - 1] ?? page;
  const node = (n: NodeBase) => {
    n.page = map(n.page);
  };
  const list = (l: ListNode) => {
    node(l);
    for (const item of l.items) {
      node(item);
      if (item.inline) inline(item.inline);
      for (const child of item.children ?? []) list(child);
    }
  };
  const inline = (group: Extract<BlockNode, { kind: "inline" }>) => {
    node(group);
    for (const child of group.children) node(child);
  };
  for (const block of doc.body) {
    switch (block.kind) {
      case "list":
        list(block);
        break;
      case "inline":
        inline(block);
        break;
      case "table":
      case "picture":
      case "code":
        node(block);
        if (block.caption) node(block.caption);
        break;
      case "text":
      case "title":
      case "heading":
        node(block);
        if (block.inline) inline(block.inline);
        break;
      default:
        node(block);
    }
  }
  for (const page of doc.pages) page.pageNo = map(page.pageNo);
  for (const issue of issues) issue.page = map(issue.page);
}
