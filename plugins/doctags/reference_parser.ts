/**
 * The docling-compatible reader (`compat: "docling"`): reproduces what
 * docling-core 2.87's `DoclingDocument.load_from_doctags` builds, including
 * its losses, so that the exporters then print exactly what docling prints.
 *
 * docling-core does not parse a tree. It runs one non-nesting regular
 * expression over each page: a known tag, then everything up to the first
 * closing tag of the same name, or up to the end of the page. Consequences
 * reproduced here:
 * - an element whose closing tag is missing keeps only its existence (empty
 *   text, empty table, empty list) and swallows the rest of the page;
 * - a nested list ends the outer list at the inner closing tag;
 * - tags it does not list (`<paragraph>`, `<list_item>` at top level, ...)
 *   and text between elements are ignored;
 * - a picture without location tokens is dropped (its caption stays);
 * - captions spanning lines are not found.
 *
 * Where docling-core raises (`<document_index>`, some ragged tables) this
 * reader keeps going and reports a `reference_error` issue.
 *
 * @module
 */
import type {
  BlockNode,
  BoundingBox,
  DocTagsDocument,
  InlineChild,
  KeyValueCell,
  KeyValueLink,
  KeyValueNode,
  ListItemNode,
  PageInfo,
  PageSize,
  PictureNode,
  TableNode,
  TextLabel,
  TextNode,
} from "./document.ts";
import type { ParseIssue } from "./issues.ts";
import { referenceOtslTable } from "./otsl.ts";
import { pyDigitsValue, pyStrip } from "./python.ts";
import { codeLanguage, LEGACY_CLASS_ALIASES, REFERENCE_CLASS_ORDER } from "./vocabulary.ts";

const TOP_TAGS = "title|document_index|checkbox_unselected|checkbox_selected|text|page_header|" +
  "inline|page_footer|formula|caption|picture|footnote|code|section_header_level_[1-6]|" +
  "ordered_list|unordered_list|key_value_region|chart|otsl";

/** One element as docling-core's regular expression finds it. */
interface ElementMatch {
  tag: string;
  /** The whole match, tags included. */
  chunk: string;
  /** The text between the tags. */
  content: string;
  closed: boolean;
  offset: number;
}

/**
 * All elements of `text`, lazily matched up to the first closer of the same
 * name or the end. Python's `$` also matches before a final newline, hence
 * the `\n?` in the look-ahead.
 */
function elements(text: string): ElementMatch[] {
  const pattern = new RegExp(`<(${TOP_TAGS})>([\\s\\S]*?)(?:(</\\1>)|(?=\\n?$))`, "g");
  const out: ElementMatch[] = [];
  for (const m of text.matchAll(pattern)) {
    out.push({
      tag: m[1],
      chunk: m[0],
      content: m[2],
      closed: m[3] !== undefined,
      offset: m.index,
    });
  }
  return out;
}

/** The first four `<loc_N>` values of `chunk` as page fractions (N / 500). */
function firstBox(chunk: string): [number, number, number, number] | undefined {
  const values: number[] = [];
  for (const m of chunk.matchAll(/<loc_(\p{Nd}+)>/gu)) {
    values.push(pyDigitsValue(m[1]) / 500);
    if (values.length === 4) return [values[0], values[1], values[2], values[3]];
  }
  return undefined;
}

/**
 * Scales a fractional box to the page (docling's `resize_by_scale`). A
 * location of hundreds of digits (docling-core raises OverflowError on it)
 * would give Infinity, which JSON cannot hold: it is clamped to the largest
 * finite number.
 */
function scaled(box: [number, number, number, number], size: PageSize): BoundingBox {
  return {
    l: finite(box[0] * size.width),
    t: finite(box[1] * size.height),
    r: finite(box[2] * size.width),
    b: finite(box[3] * size.height),
  };
}

function finite(value: number): number {
  return Number.isNaN(value) ? 0 : Math.min(Math.max(value, -Number.MAX_VALUE), Number.MAX_VALUE);
}

/** Text with every `<tag>` removed (a `<` not followed by a letter or `/` stays). */
function innerText(chunk: string): string {
  return pyStrip(chunk.replace(/<[a-zA-Z/][^>]*>/g, ""));
}

const TEXT_LABELS: Readonly<Record<string, TextLabel>> = {
  text: "text",
  caption: "caption",
  footnote: "footnote",
  page_header: "page_header",
  page_footer: "page_footer",
  checkbox_selected: "checkbox_selected",
  checkbox_unselected: "checkbox_unselected",
};

/** Reads pages of DocTags the way docling-core does (see the module notes). */
export function parseReference(
  pages: readonly string[],
  sizes: readonly PageSize[],
  hasImage: boolean,
): { document: DocTagsDocument; issues: ParseIssue[] } {
  const issues: ParseIssue[] = [];
  const body: BlockNode[] = [];
  const pageInfos: PageInfo[] = [];

  pages.forEach((text, index) => {
    const page = index + 1;
    const size = sizes[index] ?? { width: 1, height: 1 };
    pageInfos.push({ pageNo: page, width: size.width, height: size.height });
    const box = (chunk: string) => {
      const b = firstBox(chunk);
      return b ? scaled(b, size) : undefined;
    };
    const issue = (code: ParseIssue["code"], message: string, tag: string, offset?: number) =>
      issues.push({ code, message, page, tag, offset });

    /** docling-core's `_add_text`: one text-like item from a chunk. */
    const textItem = (
      chunk: string,
      bbox: BoundingBox | undefined,
      tag: string,
      offset: number,
    ): InlineChild => {
      const text = innerText(chunk);
      const layer = tag === "page_header" || tag === "page_footer" ? "furniture" : "body";
      const base = { page, bbox, layer } as const;
      const heading = /^section_header_level_(\d)$/.exec(tag);
      if (heading) return { kind: "heading", level: Number(heading[1]), text, ...base };
      if (tag === "title") return { kind: "title", text, ...base };
      if (tag === "formula") return { kind: "formula", text, ...base };
      if (tag === "code") {
        const m = /^<_([^>]+)_>/.exec(text);
        if (!m) return { kind: "code", text, language: "unknown", ...base };
        return {
          kind: "code",
          text: text.slice(m[0].length),
          language: codeLanguage(m[1]),
          languageToken: m[1],
          ...base,
        };
      }
      let label: TextLabel = TEXT_LABELS[tag] ?? "text";
      if (
        tag === "document_index" || tag === "otsl" || tag === "picture" ||
        tag === "key_value_region"
      ) {
        issue(
          "reference_error",
          `docling-core raises a ValidationError: <${tag}> is not a valid text label there`,
          tag,
          offset,
        );
        label = tag === "document_index" ? "document_index" : "text";
      }
      return { kind: "text", label, text, ...base };
    };

    /** docling-core's `extract_caption`: the first one-line `<caption>`, added to the body. */
    const caption = (chunk: string): TextNode | undefined => {
      const m = /<caption>([^\n]*?)<\/caption>/.exec(chunk);
      if (!m) return undefined;
      return {
        kind: "text",
        label: "caption",
        text: innerText(m[1]),
        page,
        layer: "body",
        bbox: box(m[1]),
      };
    };

    for (const match of elements(text)) {
      const { tag, offset } = match;
      const bbox = box(match.chunk);
      let chunk = match.chunk;
      if (!match.closed) {
        // Only the existence of an unclosed element survives.
        chunk = `<${tag}></${tag}>`;
        issue(
          "unclosed_element",
          `<${tag}> is never closed; docling-core drops its content`,
          tag,
          offset,
        );
      }

      if (tag === "otsl") {
        const data = referenceOtslTable(
          chunk,
          (m) => issue("reference_error", m, tag, offset),
          (m) => issue("irregular_table", m, tag, offset),
        );
        const table: TableNode = { kind: "table", data, page, bbox, layer: "body" };
        const cap = caption(chunk);
        if (cap) table.caption = cap;
        body.push(table);
      } else if (tag === "inline") {
        // The group's own content is read even when it is unclosed.
        const common = box(match.content);
        const children = elements(match.content).map((m) =>
          textItem(m.chunk, common, m.tag, offset)
        );
        body.push({ kind: "inline", children, page, layer: "body" });
      } else if (tag === "picture" || tag === "chart") {
        const cap = caption(chunk);
        let classification: string | undefined;
        for (const name of REFERENCE_CLASS_ORDER) {
          if (chunk.includes(`<${name}>`)) {
            classification = LEGACY_CLASS_ALIASES[name] ?? name;
            break;
          }
        }
        if (!bbox) {
          // docling-core only adds a picture that has a location.
          if (cap) body.push(cap);
          issue("missing_location", `<${tag}> has no location; docling-core drops it`, tag, offset);
          continue;
        }
        const picture: PictureNode = { kind: "picture", page, bbox, layer: "body" };
        if (classification) picture.classification = classification;
        if (tag === "chart") {
          const data = referenceOtslTable(
            chunk,
            (m) => issue("reference_error", m, tag, offset),
            (m) => issue("irregular_table", m, tag, offset),
          );
          picture.chart = { title: classification ?? "other", data };
        }
        // The caption is attached only when it has a location of its own.
        if (cap && cap.bbox) picture.caption = cap;
        else if (cap) body.push(cap);
        body.push(picture);
      } else if (tag === "key_value_region") {
        body.push(keyValues(chunk, page, size, hasImage));
      } else if (tag === "ordered_list" || tag === "unordered_list") {
        const ordered = tag === "ordered_list";
        const items: ListItemNode[] = [];
        for (const li of chunk.matchAll(/<list_item>[\s\S]*?<\/list_item>/g)) {
          items.push({
            kind: "list_item",
            text: innerText(li[0]),
            marker: ordered ? `${items.length + 1}.` : "",
            enumerated: ordered,
            page,
            // docling-core reads list-item boxes only when it has the page image.
            bbox: hasImage ? box(li[0]) : undefined,
            layer: "body",
          });
        }
        body.push({ kind: "list", ordered, items, page, layer: "body" });
      } else {
        body.push(textItem(chunk, bbox, tag, offset));
      }
    }
  });
  return { document: { name: "Document", pages: pageInfos, body }, issues };
}

/** docling-core's `parse_key_value_item`. */
function keyValues(chunk: string, page: number, size: PageSize, hasImage: boolean): KeyValueNode {
  const node: KeyValueNode = { kind: "key_value", cells: [], links: [], page, layer: "body" };
  if (hasImage) {
    const start = /<key_value_region>([^\n]*?)<key/.exec(chunk);
    const b = start ? firstBox(start[1]) : undefined;
    if (b) {
      node.bbox = scaled(b, size);
      // docling-core records page 1 for key-value provenance whatever the page.
      node.page = 1;
    }
  }
  const cells: KeyValueCell[] = [];
  const pending: [number, number][] = [];
  const pattern = /<(key|value)_(\p{Nd}+)>([\s\S]*?)<\/\1_\2>/gu;
  for (const m of chunk.matchAll(pattern)) {
    const id = pyDigitsValue(m[2]);
    const raw = m[3];
    const cell: KeyValueCell = {
      id,
      label: m[1] as "key" | "value",
      text: pyStrip(raw.replace(/<loc_\p{Nd}+>/gu, "").replace(/<link_\p{Nd}+>/gu, "")),
    };
    if (hasImage) {
      const b = firstBox(raw);
      if (b) cell.bbox = scaled(b, size);
    }
    cells.push(cell);
    for (const link of raw.matchAll(/<link_(\p{Nd}+)>/gu)) {
      pending.push([id, pyDigitsValue(link[1])]);
    }
  }
  const ids = new Set(cells.map((c) => c.id));
  const links: KeyValueLink[] = pending
    .filter(([, target]) => ids.has(target))
    .map(([source, target]) => ({ source, target }));
  node.cells = cells;
  node.links = links;
  return node;
}
