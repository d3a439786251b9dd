/**
 * Walks a block the way docling iterates a document's items: depth first,
 * groups (lists, inline groups) before their members, a caption just before
 * the table, picture or code block it belongs to (docling stores captions as
 * separate items placed before their owner).
 *
 * @module
 */
import type { BlockNode, DocNode, InlineNode, ListNode } from "./document.ts";

/** One item in iteration order. */
export interface ItemEntry {
  /** The element. */
  node: DocNode;
  /** True for groups (lists, inline groups), which carry no location in docling. */
  group: boolean;
  /** Nesting depth below the top-level block. */
  depth: number;
}

/** The block and everything inside it, in docling's iteration order. */
export function docItems(block: BlockNode): ItemEntry[] {
  const out: ItemEntry[] = [];
  visit(block, 0, out);
  return out;
}

function visitInline(group: InlineNode, depth: number, out: ItemEntry[]): void {
  out.push({ node: group, group: true, depth });
  for (const child of group.children) visit(child, depth + 1, out);
}

function visitList(list: ListNode, depth: number, out: ItemEntry[]): void {
  out.push({ node: list, group: true, depth });
  for (const item of list.items) {
    out.push({ node: item, group: false, depth: depth + 1 });
    if (item.inline) visitInline(item.inline, depth + 2, out);
    for (const child of item.children ?? []) visitList(child, depth + 2, out);
  }
}

function visit(node: BlockNode, depth: number, out: ItemEntry[]): void {
  switch (node.kind) {
    case "list":
      return visitList(node, depth, out);
    case "inline":
      return visitInline(node, depth, out);
    case "table":
    case "picture":
    case "code":
      if (node.caption) out.push({ node: node.caption, group: false, depth });
      out.push({ node, group: false, depth });
      return;
    case "text":
    case "title":
    case "heading":
      out.push({ node, group: false, depth });
      if (node.inline) visitInline(node.inline, depth + 1, out);
      return;
    default:
      out.push({ node, group: false, depth });
  }
}
