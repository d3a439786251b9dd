/**
 * Markdown export, following docling-core's `export_to_markdown()` defaults:
 * blocks joined by blank lines, furniture left out, `_` and HTML characters
 * escaped in text (not in code or formulas), headings at level N+1, pictures
 * as a placeholder plus their class and chart data, key-value regions as a
 * comment, tables as padded GitHub pipe tables with row 0 as the header.
 *
 * @module
 */
import type {
  BlockNode,
  ContentLayer,
  DocNode,
  DocTagsDocument,
  InlineChild,
  InlineNode,
  ListItemNode,
  ListNode,
  PictureNode,
  TableData,
  TableNode,
  TextNode,
} from "./document.ts";
import { tableGrid } from "./document.ts";
import { pipeTable } from "./pipe_table.ts";
import { htmlEscape, pyCapitalize, pyStrip } from "./python.ts";
import { docItems, type ItemEntry } from "./traverse.ts";

/** Options of {@link toMarkdown}; the defaults are docling's. */
export interface MarkdownOptions {
  /** Text standing for a picture (default `<!-- image -->`). */
  imagePlaceholder?: string;
  /**
   * docling's `image_mode`: `placeholder` (default) prints the placeholder;
   * `referenced` prints `![Image](uri)` for a picture with a stored
   * {@link PictureNode.image} that is not a `data:` URL, the placeholder otherwise.
   */
  imageMode?: "placeholder" | "referenced";
  /**
   * When set, this text is put between pages (docling's
   * `page_break_placeholder`, e.g. `<!-- page break -->`). Default: none.
   */
  pageBreakPlaceholder?: string;
  /** Layers to export (default: body only, page headers and footers left out). */
  layers?: readonly ContentLayer[];
  /** Escape `_` as `\_` in text (default true). */
  escapeUnderscores?: boolean;
  /** Escape `&`, `<`, `>` in text (default true). */
  escapeHtml?: boolean;
  /** Print chart data as a table after a chart (default true). */
  chartTables?: boolean;
  /** Spaces per nesting level of lists (default 4). */
  indent?: number;
}

interface Settings {
  image: string;
  referenced: boolean;
  escUnderscores: boolean;
  escHtml: boolean;
  chartTables: boolean;
  indent: number;
  layers: ReadonlySet<ContentLayer>;
}

/** A block's Markdown and whether it came from an inline group (for list merging). */
interface Part {
  text: string;
  fromInline: boolean;
}

/**
 * Serializes the document to Markdown like docling-core's
 * `export_to_markdown()` (no trailing newline).
 */
export function toMarkdown(doc: DocTagsDocument, options: MarkdownOptions = {}): string {
  const s: Settings = {
    image: options.imagePlaceholder ?? "<!-- image -->",
    referenced: options.imageMode === "referenced",
    escUnderscores: options.escapeUnderscores ?? true,
    escHtml: options.escapeHtml ?? true,
    chartTables: options.chartTables ?? true,
    indent: options.indent ?? 4,
    layers: new Set(options.layers ?? ["body"]),
  };
  const parts: string[] = [];
  const blocks = doc.body.filter((b) => s.layers.has(b.layer));
  if (options.pageBreakPlaceholder === undefined) {
    for (const block of blocks) {
      const text = block_(block, s);
      if (text) parts.push(text);
    }
    return parts.join("\n\n");
  }
  for (const entry of withPageBreaks(blocks, s)) {
    const text = entry === "break" ? options.pageBreakPlaceholder : block_(entry, s);
    if (text) parts.push(text);
  }
  return parts.join("\n\n");
}

/**
 * The blocks with page breaks between them, placed where docling's item
 * iteration puts them: a break comes before the first item carrying a
 * location on a later page (captions count, though they print with their
 * owner). Items without a location never open a page; a group opens the page
 * of its first located member.
 */
function withPageBreaks(blocks: readonly BlockNode[], s: Settings): (BlockNode | "break")[] {
  const seq: { entry: ItemEntry; top: BlockNode }[] = [];
  for (const block of blocks) {
    for (const entry of docItems(block)) {
      if (entry.group || s.layers.has(entry.node.layer)) seq.push({ entry, top: block });
    }
  }
  const out: (BlockNode | "break")[] = [];
  const scannedGroups = new Set<DocNode>();
  const emittedBreaks = new Set<number>();
  let breakId = 0;
  let previous: number | undefined;
  const emitBreak = () => {
    // A break id seen twice (group check, then its first member) prints once.
    if (!emittedBreaks.has(breakId)) out.push("break");
    emittedBreaks.add(breakId);
  };
  for (let k = 0; k < seq.length; k++) {
    const { entry, top } = seq[k];
    if (entry.group && !scannedGroups.has(entry.node)) {
      scannedGroups.add(entry.node);
      for (let j = k + 1; j < seq.length && seq[j].entry.depth > entry.depth; j++) {
        const inner = seq[j].entry;
        if (inner.group) {
          scannedGroups.add(inner.node);
        } else if (inner.node.bbox !== undefined) {
          if (previous !== undefined && inner.node.page > previous) emitBreak();
          break;
        }
      }
    } else if (!entry.group && entry.node.bbox !== undefined) {
      if (previous === undefined || entry.node.page > previous) {
        if (previous !== undefined) {
          emitBreak();
          breakId++;
        }
        previous = entry.node.page;
      }
    }
    if (entry.node === top) out.push(top);
  }
  return out;
}

/** `_` → `\_` outside `![..](..)` image links, as docling does. */
function escapeUnderscores(text: string): string {
  let out = "";
  let last = 0;
  for (const m of text.matchAll(/!\[[^\n]*?\]\([^\n]*?\)/g)) {
    out += text.slice(last, m.index).replace(/(?<!\\)_/g, "\\_") + m[0];
    last = m.index + m[0].length;
  }
  if (last < text.length) out += text.slice(last).replace(/(?<!\\)_/g, "\\_");
  return out;
}

function escape(text: string, s: Settings): string {
  let out = text;
  if (s.escUnderscores) out = escapeUnderscores(out);
  if (s.escHtml) out = htmlEscape(out, false);
  return out;
}

function block_(block: BlockNode, s: Settings): string {
  switch (block.kind) {
    case "list":
      return list(block, 0, s);
    case "inline":
      return inline(block, s);
    case "table":
      return table(block, s);
    case "picture":
      return [picture(block, s), pictureMeta(block, s)].filter((p) => p).join("\n\n");
    case "key_value":
      return "<!-- missing-key-value-item -->";
    default:
      return textLike(block, false, s);
  }
}

function captionText(caption: TextNode | undefined, s: Settings): string {
  return caption && caption.text ? escape(caption.text, s) : "";
}

/** docling's text serializer for titles, headings, paragraphs, code and formulas. */
function textLike(
  node: InlineChild | ListItemNode,
  inlineScope: boolean,
  s: Settings,
  item?: ItemContext,
): string {
  const group = node.kind === "code" || node.kind === "formula" ? undefined : node.inline;
  const inlineRepr = node.text === "" && group !== undefined &&
    !(node.kind === "list_item" && (node.children?.length ?? 0) > 0);
  let text = inlineRepr ? inline(group!, s) : node.text;
  let pending = !inlineRepr;
  if (node.kind === "text" && node.label === "checkbox_selected") text = `- [x] ${text}`;
  if (node.kind === "text" && node.label === "checkbox_unselected") text = `- [ ] ${text}`;
  let escapes = true;
  let part: string;
  if (node.kind === "list_item" || node.kind === "title" || node.kind === "heading") {
    if (!inlineRepr) text = escape(text, s);
    pending = false;
    if (node.kind === "list_item") part = listItemLine(node, text, item);
    else part = `${"#".repeat(node.kind === "title" ? 1 : node.level + 1)} ${text}`;
  } else if (node.kind === "code") {
    part = inlineScope ? `\`${text}\`` : "```\n" + text + "\n```";
    escapes = false;
  } else if (node.kind === "formula") {
    part = text ? (inlineScope ? `$${text}$` : `$$${text}$$`) : "";
    escapes = false;
  } else {
    part = text;
  }
  const pieces = part ? [part] : [];
  if (node.kind === "code") {
    const cap = captionText(node.caption, s);
    if (cap) pieces.push(cap);
  }
  const joined = pieces.join(inlineScope ? " " : "\n\n");
  return pending && escapes ? escape(joined, s) : joined;
}

interface ItemContext {
  list: ListNode;
  index: number;
}

/** docling's list-item marker rules (original marker mode "auto"). */
function listItemLine(item: ListItemNode, text: string, context?: ItemContext): string {
  const marker = item.marker;
  const auto = /[a-zA-Z0-9]/.test(marker);
  const valid = marker === "-" || marker === "*" || marker === "+" || /^\p{Nd}+\.$/u.test(marker);
  const pieces: string[] = [];
  if (!valid) {
    let md = "-";
    const first = context?.list.items[0];
    if (first?.enumerated && !marker) md = `${(context?.index ?? 0) + 1}.`;
    pieces.push(md);
  }
  if (marker && (auto || valid)) pieces.push(marker);
  pieces.push(text);
  return pieces.join(" ");
}

function list(node: ListNode, level: number, s: Settings): string {
  const parts: Part[] = [];
  node.items.forEach((item, index) => {
    parts.push({ text: textLike(item, false, s, { list: node, index }), fromInline: false });
    const inlineRepr = item.text === "" && item.inline !== undefined && !(item.children?.length);
    if (item.inline && !inlineRepr) parts.push({ text: inline(item.inline, s), fromInline: true });
    for (const child of item.children ?? []) {
      parts.push({ text: list(child, level + 1, s), fromInline: false });
    }
  });
  // An inline group's text continues the previous item's line.
  const merged: string[] = [];
  for (const p of parts) {
    if (!p.text) continue;
    if (p.fromInline && merged.length > 0) merged[merged.length - 1] += p.text;
    else merged.push(p.text);
  }
  const indent = " ".repeat(level * s.indent);
  return merged.map((t) => (t[0] === " " ? t : indent + t)).join("\n");
}

function inline(node: InlineNode, s: Settings): string {
  return node.children
    .filter((child) => s.layers.has(child.layer))
    .map((child) => textLike(child, true, s))
    .filter((t) => t)
    .join(" ");
}

/** A table's grid as a pipe table (newlines become spaces, `|` becomes `&#124;`). */
export function markdownTable(data: TableData): string {
  const rows = tableGrid(data).map((row) =>
    row.map((cell) => cell.text.replace(/\n/g, " ").replace(/\|/g, "&#124;"))
  );
  return pipeTable(rows);
}

function table(node: TableNode, s: Settings): string {
  return [captionText(node.caption, s), markdownTable(node.data)].filter((p) => p).join("\n\n");
}

function picture(node: PictureNode, s: Settings): string {
  const uri = node.image?.uri;
  const image = s.referenced && uri !== undefined && !uri.startsWith("data:")
    ? `![Image](${uri})`
    : s.image;
  return [captionText(node.caption, s), image].filter((p) => p).join("\n\n");
}

/** docling's `_humanize_text`: `bar_chart` → `Bar chart`. */
export function humanize(name: string): string {
  return pyCapitalize(name.replace(/__/g, "_").replace(/_/g, " "));
}

function pictureMeta(node: PictureNode, s: Settings): string {
  const parts: string[] = [];
  if (node.classification) parts.push(humanize(node.classification));
  if (node.chart && s.chartTables) {
    const t = pyStrip(markdownTable(node.chart.data));
    if (t) parts.push(t);
  }
  return parts.join("\n\n");
}
