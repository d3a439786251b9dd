/**
 * HTML export, following docling-core's `export_to_html()` defaults: a full
 * page with docling's stylesheet, one element per line inside
 * `<div class='page'>`, tables with row/column spans, pictures as `<figure>`
 * with their class and chart data in a `<details>` block, formulas as MathML.
 *
 * @module
 */
import type {
  BlockNode,
  ContentLayer,
  DocTagsDocument,
  InlineChild,
  InlineNode,
  KeyValueNode,
  ListItemNode,
  ListNode,
  PictureNode,
  TableData,
  TextNode,
} from "./document.ts";
import { tableGrid } from "./document.ts";
import { DOCLING_HTML_STYLE } from "./html_style.ts";
import { humanize } from "./markdown.ts";
import { latexToMathml } from "./mathml.ts";
import { htmlEscape, pyLen, pyQuote, pyStrip } from "./python.ts";

/** Options of {@link toHtml}; the defaults are docling's. */
export interface HtmlOptions {
  /** Layers to export (default: body only). */
  layers?: readonly ContentLayer[];
  /**
   * Render formulas as MathML (default true). The built-in converter covers
   * common LaTeX (letters, numbers, operators, Greek, `\frac`, `\sqrt`,
   * scripts, spacing, `\left`/`\right`, `\text`, named functions); a formula
   * it cannot convert is printed as `<pre>` LaTeX, docling's own fallback.
   */
  formulaToMathml?: boolean;
  /** Replaces the whole `<head>` element. */
  head?: string;
  /**
   * docling's `image_mode`: `placeholder` (default) prints no image;
   * `referenced` adds `<img src="uri">` to a picture with a stored
   * {@link PictureNode.image} that is not a `data:` URL.
   */
  imageMode?: "placeholder" | "referenced";
}

interface Settings {
  mathml: boolean;
  referenced: boolean;
  layers: ReadonlySet<ContentLayer>;
}

/** Serializes the document to an HTML page like docling-core's `export_to_html()`. */
export function toHtml(doc: DocTagsDocument, options: HtmlOptions = {}): string {
  const s: Settings = {
    mathml: options.formulaToMathml ?? true,
    referenced: options.imageMode === "referenced",
    layers: new Set(options.layers ?? ["body"]),
  };
  const parts: string[] = [];
  for (const block of doc.body) {
    if (!s.layers.has(block.layer)) continue;
    const text = blockHtml(block, s);
    if (text) parts.push(text);
  }
  const head = options.head ?? [
    "<head>",
    '<meta charset="UTF-8"/>',
    `<title>${doc.name ? htmlEscape(doc.name) : "Docling Document"}</title>`,
    '<meta name="generator" content="Docling HTML Serializer"/>',
    DOCLING_HTML_STYLE,
    "</head>",
  ].join("\n");
  return [
    "<!DOCTYPE html>",
    "<html>",
    head,
    "<body>",
    `<div class='page'>\n${parts.join("\n")}\n</div>`,
    "</body>",
    "</html>",
  ].join("\n");
}

function blockHtml(block: BlockNode, s: Settings): string {
  switch (block.kind) {
    case "list":
      return list(block, s);
    case "inline":
      return inline(block, s);
    case "table":
      return table(block.data, block.caption);
    case "picture":
      return picture(block, s);
    case "key_value":
      return keyValues(block);
    default:
      return textLike(block, false, s);
  }
}

/**
 * Approximates Python's `unicodedata.bidirectional(ch) in ("R", "AL")`:
 * letters and punctuation of the right-to-left blocks (Hebrew, Arabic,
 * Syriac, Thaana, NKo, ... and their presentation forms), without marks and
 * digits, which have other bidi classes.
 */
function isRtlChar(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  const inBlock = (cp >= 0x0590 && cp <= 0x08ff) || (cp >= 0xfb1d && cp <= 0xfdff) ||
    (cp >= 0xfe70 && cp <= 0xfefe) || (cp >= 0x10800 && cp <= 0x10fff) ||
    (cp >= 0x1e800 && cp <= 0x1efff);
  if (!inBlock) return false;
  if (/[\p{M}\p{N}\p{Cn}\p{Cf}]/u.test(ch)) return false;
  return cp !== 0x060c && !(cp >= 0x0600 && cp <= 0x0605);
}

/** docling's `get_text_direction`: `rtl` when the first character or most characters are right-to-left. */
export function textDirection(text: string): "ltr" | "rtl" {
  if (!text) return "ltr";
  const chars = [...text];
  if (isRtlChar(chars[0])) return "rtl";
  let rtl = 0;
  for (const ch of chars) if (isRtlChar(ch)) rtl++;
  return rtl > pyLen(text) / 2 ? "rtl" : "ltr";
}

function textLike(node: InlineChild, inlineScope: boolean, s: Settings): string {
  const group = node.kind === "code" || node.kind === "formula" ? undefined : node.inline;
  const inlineRepr = node.text === "" && group !== undefined;
  let text: string;
  if (inlineRepr) {
    text = inline(group!, s);
  } else {
    text = node.text;
    if (node.kind !== "code" && node.kind !== "formula") {
      text = htmlEscape(text, false).replace(/\n/g, "<br>");
    }
  }
  if (node.kind === "title") text = `<h1>${text}</h1>`;
  else if (node.kind === "heading") {
    text = `<h${Math.min(node.level + 1, 6)}>${text}</h${Math.min(node.level + 1, 6)}>`;
  } else if (node.kind === "formula") text = formula(node.text, inlineScope, s);
  else if (node.kind === "code") {
    text = inlineScope ? `<code>${text}</code>` : `<pre><code>${text}</code></pre>`;
  } else if (!inlineScope) text = `<p>${text}</p>`;
  if (group && !inlineRepr) {
    const nested = inline(group, s);
    if (nested) text = text ? `${text}\n${nested}` : nested;
  }
  return text;
}

function formula(latex: string, inlineScope: boolean, s: Settings): string {
  if (latex && s.mathml) {
    const mathml = latexToMathml(latex, inlineScope ? "inline" : "block");
    if (mathml === undefined) return `<pre>${latex}</pre>`;
    return inlineScope ? mathml : `<div>${mathml}</div>`;
  }
  if (latex && inlineScope) return `<code>${latex}</code>`;
  // docling prints this also for a non-empty formula when MathML is off.
  return inlineScope
    ? '<span class="formula-not-decoded">Formula not decoded</span>'
    : '<div class="formula-not-decoded">Formula not decoded</div>';
}

function listItem(item: ListItemNode, s: Settings): string {
  const inlineRepr = item.text === "" && item.inline !== undefined && !(item.children?.length);
  let text = inlineRepr
    ? inline(item.inline!, s)
    : htmlEscape(item.text, false).replace(/\n/g, "<br>");
  const parts: string[] = [];
  if (text) parts.push(inlineRepr ? `\n${text}\n` : text);
  const nested: string[] = [];
  if (item.inline && !inlineRepr) nested.push(inline(item.inline, s));
  for (const child of item.children ?? []) nested.push(list(child, s));
  const nonEmpty = nested.filter((n) => n);
  text = [...parts, ...nonEmpty].join("\n");
  if (nonEmpty.length > 0) text = `\n${text}\n`;
  if (!text) return "";
  const style = item.marker
    ? ` style="list-style-type: '${htmlEscape(item.marker, false)} ';"`
    : "";
  return `<li${style}>${text}</li>`;
}

function list(node: ListNode, s: Settings): string {
  const items = node.items.filter((i) => s.layers.has(i.layer)).map((i) => listItem(i, s)).filter((
    t,
  ) => t);
  if (items.length === 0) return "";
  const tag = node.items[0]?.enumerated ? "ol" : "ul";
  return `<${tag}>\n${items.join("\n")}\n</${tag}>`;
}

function inline(node: InlineNode, s: Settings): string {
  const text = node.children
    .filter((child) => s.layers.has(child.layer))
    .map((child) => textLike(child, true, s))
    .filter((t) => t)
    .join(" ");
  return text ? `<span class='inline-group'>${text}</span>` : "";
}

function captionDiv(caption: TextNode): string {
  const dir = textDirection(caption.text) === "rtl" ? ' dir="rtl"' : "";
  return `<div class="caption"${dir}>${htmlEscape(caption.text)}</div>`;
}

/** A table as `<table>`, with its caption when given; "" for an empty table without caption. */
export function table(data: TableData, caption?: TextNode): string {
  let body = "";
  const grid = tableGrid(data);
  grid.forEach((row, i) => {
    body += "<tr>";
    row.forEach((cell, j) => {
      if (cell.startRow !== i || cell.startCol !== j) return;
      const content = htmlEscape(pyStrip(cell.text));
      const tag = cell.columnHeader || cell.rowHeader || cell.rowSection ? "th" : "td";
      let open = tag;
      if (cell.rowSpan > 1) open += ` rowspan="${cell.rowSpan}"`;
      if (cell.colSpan > 1) open += ` colspan="${cell.colSpan}"`;
      if (textDirection(content) === "rtl") open += ' dir="rtl"';
      body += `<${open}>${content}</${tag}>`;
    });
    body += "</tr>";
  });
  const inner = (caption ? `<caption>${captionDiv(caption)}</caption>` : "") +
    (body ? `<tbody>${body}</tbody>` : "");
  return inner ? `<table>${inner}</table>` : "";
}

function metaField(name: string, value: string): string {
  return `<div class="docling-meta-field" data-meta-name="${name}">` +
    `<span class="docling-meta-field-label">${name}:</span> ` +
    `<span class="docling-meta-field-value">${value}</span></div>`;
}

function picture(node: PictureNode, s: Settings): string {
  let out = node.caption ? `<figcaption>${captionDiv(node.caption)}</figcaption>` : "";
  const uri = node.image?.uri;
  if (s.referenced && uri !== undefined && !uri.startsWith("data:")) {
    out += `<img src="${pyQuote(uri)}">`;
  }
  const fields: string[] = [];
  if (node.classification) {
    fields.push(metaField("classification", htmlEscape(humanize(node.classification), false)));
  }
  if (node.chart) {
    const t = pyStrip(table(node.chart.data));
    if (t) fields.push(metaField("tabular_chart", t));
  }
  if (fields.length > 0) {
    out += `<details class="docling-meta"><summary>Meta</summary>${fields.join("")}</details>`;
  }
  return out ? `<figure>${out}</figure>` : "";
}

/** docling's key-value rendering: each key with linked values; other cells leave an empty line. */
function keyValues(node: KeyValueNode): string {
  const cells = new Map<number, string>();
  for (const cell of node.cells) cells.set(cell.id, cell.text);
  const values = new Map<number, number[]>();
  for (const link of node.links) {
    if (!cells.has(link.source) || !cells.has(link.target)) continue;
    const list = values.get(link.source) ?? [];
    list.push(link.target);
    values.set(link.source, list);
  }
  const parts = ['<div class="key-value-region">'];
  if (cells.size > 0) {
    parts.push('<ul class="key-value-region">');
    for (const [id, text] of cells) {
      const targets = values.get(id);
      if (!targets) {
        parts.push("");
        continue;
      }
      const shown = targets.map((t) => htmlEscape(cells.get(t)!)).join(", ");
      parts.push(`<li><strong>${htmlEscape(text)}</strong>: ${shown}</li>`);
    }
    parts.push("</ul>");
  } else {
    parts.push('<dl class="key-value-region">');
    parts.push("</dl>");
  }
  parts.push("</div>");
  return parts.join("\n");
}
