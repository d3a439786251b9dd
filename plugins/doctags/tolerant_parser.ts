/**
 * The tolerant DocTags reader (the default mode). A recursive-descent parser
 * over the lexer's tokens that never throws and keeps whatever content the
 * model produced:
 * - an element whose closing tag is missing ends at the next element that
 *   cannot nest in it (or at the end), keeping its text, and is flagged
 *   `truncated`;
 * - lists nest, `<inline>` groups stay groups, captions may span lines;
 * - truncated tables keep the rows read so far, ragged rows are padded and
 *   header kinds (`<ched>`, `<rhed>`, `<srow>`) are kept;
 * - `<paragraph>`, `<reference>`, `<handwritten_text>`, `<document_index>`
 *   and unknown elements become text, out-of-range heading levels are
 *   clamped, stray text becomes a paragraph;
 * - a repeating tail (a generation loop) is collapsed to one copy.
 * Every repair is reported as an issue.
 *
 * @module
 */
import type {
  BlockNode,
  BoundingBox,
  DocTagsDocument,
  HeadingNode,
  InlineChild,
  InlineNode,
  KeyValueCell,
  KeyValueNode,
  ListItemNode,
  ListNode,
  PageInfo,
  PageSize,
  PictureNode,
  TableNode,
  TextLabel,
  TextNode,
  TitleNode,
} from "./document.ts";
import type { IssueCode, ParseIssue } from "./issues.ts";
import { lex, type Token } from "./lexer.ts";
import { buildTable, type OtslCell } from "./otsl.ts";
import { isBlank, pyStrip } from "./python.ts";
import { tailRepeat } from "./repetition.ts";
import {
  codeLanguage,
  HEADING_TAG,
  isBlockTag,
  LEGACY_CLASS_ALIASES,
  OTSL_TOKENS,
  PICTURE_CLASSES,
  STOP_STRINGS,
  TEXT_TAGS,
} from "./vocabulary.ts";

/** Settings of the tolerant reader. */
export interface TolerantOptions {
  /** Minimum copies of a repeating tail to collapse it; `false` disables. */
  collapseRepeats: number | false;
}

/** Reads pages of DocTags tolerantly (see the module notes). */
export function parseTolerant(
  pages: readonly string[],
  sizes: readonly PageSize[],
  options: TolerantOptions,
): { document: DocTagsDocument; issues: ParseIssue[] } {
  const issues: ParseIssue[] = [];
  const body: BlockNode[] = [];
  const infos: PageInfo[] = [];
  pages.forEach((text, index) => {
    const size = sizes[index] ?? { width: 1, height: 1 };
    infos.push({ pageNo: index + 1, width: size.width, height: size.height });
    const parser = new PageParser(
      envelope(text, index + 1, issues),
      index + 1,
      size,
      issues,
      options,
    );
    body.push(...parser.parsePage());
  });
  return { document: { name: "Document", pages: infos, body }, issues };
}

/**
 * Tokens of the document proper: a leading `Assistant:` and stop tokens are
 * dropped, and when the page has a `<doctag>` envelope, text outside it is
 * ignored.
 */
function envelope(text: string, page: number, issues: ParseIssue[]): Token[] {
  let cleaned = text.replace(/^\s*Assistant:/i, "");
  for (const stop of STOP_STRINGS) cleaned = cleaned.split(stop).join("");
  const tokens = lex(cleaned);
  const hasOpen = tokens.some((t) => t.type === "open" && t.name === "doctag");
  let inside = !hasOpen;
  const out: Token[] = [];
  for (const t of tokens) {
    if (t.type === "open" && t.name === "doctag") {
      inside = true;
      continue;
    }
    if (t.type === "close" && t.name === "doctag") {
      inside = false;
      continue;
    }
    if (inside) out.push(t);
    else if (t.type !== "text" || !isBlank(t.value)) {
      issues.push({
        code: "stray_text",
        message: "content outside <doctag> ignored",
        page,
        offset: t.offset,
      });
    }
  }
  return out;
}

/** Deepest element nesting the parser descends into. */
const MAX_DEPTH = 48;

/** Tags whose elements may sit inside an `<inline>` group. */
const INLINE_TAGS = new Set([
  "text",
  "code",
  "formula",
  "caption",
  "footnote",
  "title",
  "checkbox_selected",
  "checkbox_unselected",
  "paragraph",
  "reference",
  "handwritten_text",
  "page_header",
  "page_footer",
]);

/** One element's text content, as read by `readText`. */
interface TextContent {
  text: string;
  locs: number[];
  closed: boolean;
  inline?: InlineNode;
  language?: string;
  languageToken?: string;
  caption?: TextNode;
  offset: number;
}

/** Plain text of any element, for places that can only hold text (rich table cells, merged content). */
function plainText(node: BlockNode | ListItemNode): string {
  switch (node.kind) {
    case "list":
      return node.items.map(plainText).filter((t) => t).join(" ");
    case "list_item":
      return [
        node.text,
        node.inline ? plainText(node.inline) : "",
        ...(node.children ?? []).map(plainText),
      ]
        .filter((t) => t).join(" ");
    case "inline":
      return node.children.map(plainText).filter((t) => t).join(" ");
    case "table":
      return node.data.cells.map((c) => c.text).filter((t) => t).join(" ");
    case "picture":
      return node.caption?.text ?? "";
    case "key_value":
      return node.cells.map((c) => c.text).filter((t) => t).join(" ");
    default:
      return node.text || ("inline" in node && node.inline ? plainText(node.inline) : "");
  }
}

/** OTSL cells accumulated row by row. */
class OtslRows {
  rows: OtslCell[][] = [];
  row: OtslCell[] = [];
  cell: OtslCell | undefined;

  token(name: string): void {
    if (this.cell) this.row.push(this.cell);
    this.cell = undefined;
    if (name === "nl") {
      this.rows.push(this.row);
      this.row = [];
    } else {
      this.cell = { token: name, text: "" };
    }
  }

  /** Closes the pending cell and row; returns whether an incomplete row was kept. */
  finish(): boolean {
    if (this.cell) this.row.push(this.cell);
    this.cell = undefined;
    const partial = this.row.length > 0;
    if (partial) this.rows.push(this.row);
    this.row = [];
    return partial;
  }

  get empty(): boolean {
    return this.rows.length === 0 && this.row.length === 0 && !this.cell;
  }
}

class PageParser {
  #i = 0;
  /** Names of the elements being read, innermost last. */
  #stack: string[] = [];
  #deepReported = false;

  constructor(
    readonly tokens: Token[],
    readonly page: number,
    readonly size: PageSize,
    readonly issues: ParseIssue[],
    readonly options: TolerantOptions,
  ) {}

  #peek(): Token | undefined {
    return this.tokens[this.#i];
  }

  #issue(code: IssueCode, message: string, tag?: string, offset?: number): void {
    this.issues.push({ code, message, page: this.page, tag, offset });
  }

  /** The first four locations as a box scaled to the page (values clamped to 0..500). */
  #box(locs: readonly number[]): BoundingBox | undefined {
    if (locs.length < 4) return undefined;
    const [l, t, r, b] = locs.slice(0, 4).map((v) => Math.min(v, 500) / 500);
    return {
      l: l * this.size.width,
      t: t * this.size.height,
      r: r * this.size.width,
      b: b * this.size.height,
    };
  }

  /**
   * How `token` relates to the element `name` being read: `"close"` for its
   * own closing tag, `"stop"` when it ends the element without belonging to
   * it (an enclosing element's closer, `</doctag>`), otherwise `undefined`.
   */
  #closing(token: Token & { type: "close" }, name: string): "close" | "stop" | undefined {
    if (token.name === name) return "close";
    if (token.name === "doctag" || this.#stack.slice(0, -1).includes(token.name)) return "stop";
    return undefined;
  }

  /**
   * Handles a closing tag inside element `name`: `"closed"` when it is the
   * element's own (consumed), `"stop"` when it closes an enclosing element
   * (left for it), otherwise a stray tag that is skipped and `undefined`.
   */
  #endAt(
    token: Token & { type: "close" },
    name: string,
    into?: string[],
  ): "closed" | "stop" | undefined {
    const how = this.#closing(token, name);
    if (how === "close") {
      this.#i++;
      return "closed";
    }
    if (how === "stop") return "stop";
    this.#foreignClose(token, into);
    return undefined;
  }

  /** A closing tag that belongs to nothing: reported and skipped, or kept as text when unknown. */
  #foreignClose(token: Token & { type: "close" }, into?: string[]): void {
    this.#i++;
    if (into && !isBlockTag(token.name) && !OTSL_TOKENS.has(token.name)) {
      into.push(token.raw);
      return;
    }
    this.#issue(
      "stray_closing_tag",
      `${token.raw} closes nothing; ignored`,
      token.name,
      token.offset,
    );
  }

  #unclosed(name: string, offset: number): void {
    if (this.#peek() === undefined) {
      this.#issue("truncated", `the text ends inside <${name}>; kept what was read`, name, offset);
    } else {
      this.#issue(
        "unclosed_element",
        `<${name}> is not closed; it ends at the next element`,
        name,
        offset,
      );
    }
  }

  /**
   * Whether nesting has gone too deep to descend further (pathological
   * input); the element then ends where it is, which keeps the parser's
   * recursion bounded.
   */
  #tooDeep(): boolean {
    if (this.#stack.length < MAX_DEPTH) return false;
    if (!this.#deepReported) {
      this.#issue("misplaced_element", `elements nested more than ${MAX_DEPTH} deep are flattened`);
      this.#deepReported = true;
    }
    return true;
  }

  #inTable(): boolean {
    return this.#stack.includes("otsl") || this.#stack.includes("chart") ||
      this.#stack.includes("picture");
  }

  parsePage(): BlockNode[] {
    const blocks: BlockNode[] = [];
    let locs: number[] = [];
    let stray: string[] = [];
    let strayOffset = 0;
    const flush = () => {
      for (const line of stray.join("").split("\n")) {
        if (isBlank(line)) continue;
        this.#issue(
          "stray_text",
          "text outside any element kept as a paragraph",
          undefined,
          strayOffset,
        );
        blocks.push({ kind: "text", label: "text", text: pyStrip(line), ...this.#base(locs) });
        locs = [];
      }
      stray = [];
    };
    for (let token = this.#peek(); token !== undefined; token = this.#peek()) {
      if (token.type === "text" || token.type === "lang") {
        const value = token.type === "text" ? token.value : token.raw;
        if (stray.length === 0) strayOffset = token.offset;
        stray.push(value);
        this.#i++;
        continue;
      }
      if (token.type === "loc") {
        // Locations after stray text start the next paragraph.
        if (stray.some((s) => !isBlank(s))) flush();
        locs.push(token.value);
        this.#i++;
        continue;
      }
      flush();
      if (token.type === "close") {
        this.#foreignClose(token);
        continue;
      }
      const block = this.#topLevel(token);
      if (block) blocks.push(block);
      locs = [];
    }
    flush();
    return this.#collapsePage(blocks);
  }

  #base(locs: readonly number[]): { page: number; bbox?: BoundingBox; layer: "body" } {
    const bbox = this.#box(locs);
    return bbox ? { page: this.page, bbox, layer: "body" } : { page: this.page, layer: "body" };
  }

  /** An element starting at the top level of a page (or `undefined` for a skipped token). */
  #topLevel(token: Token & { type: "open" }): BlockNode | undefined {
    const name = token.name;
    if (name === "page_break" || token.selfClosing) {
      this.#i++;
      return undefined;
    }
    if (isBlockTag(name) && name !== "list_item") return this.#element(name);
    if (name === "list_item") {
      this.#issue(
        "misplaced_element",
        "<list_item> outside a list; wrapped in a list",
        name,
        token.offset,
      );
      const items: ListItemNode[] = [];
      while (
        this.#peek()?.type === "open" && (this.#peek() as { name: string }).name === "list_item"
      ) {
        items.push(this.#listItem(false, items.length + 1));
        this.#skipBlank();
      }
      return { kind: "list", ordered: false, items, page: this.page, layer: "body" };
    }
    if (OTSL_TOKENS.has(name)) {
      this.#issue(
        "misplaced_element",
        "OTSL cells outside <otsl>; read as a table",
        name,
        token.offset,
      );
      return this.#table(true);
    }
    if (/^(key|value|link)_\d+$/.test(name) || PICTURE_CLASSES.has(name) || name === "smiles") {
      this.#issue(
        "misplaced_element",
        `<${name}> outside its element; ignored`,
        name,
        token.offset,
      );
      this.#i++;
      return undefined;
    }
    // An element DocTags does not define: keep its content as text.
    this.#issue("unknown_tag", `unknown element <${name}> read as text`, name, token.offset);
    const content = this.#readText(name, {});
    return { kind: "text", label: "text", text: content.text, ...this.#nodeBase(content) };
  }

  #skipBlank(): void {
    for (let t = this.#peek(); t?.type === "text" && isBlank(t.value); t = this.#peek()) this.#i++;
  }

  #nodeBase(
    content: TextContent,
  ): { page: number; bbox?: BoundingBox; layer: "body"; truncated?: boolean } {
    const base: { page: number; bbox?: BoundingBox; layer: "body"; truncated?: boolean } = this
      .#base(content.locs);
    if (!content.closed) base.truncated = true;
    return base;
  }

  /** Reads the element whose opening tag is the current token. */
  #element(name: string): BlockNode {
    const heading = HEADING_TAG.exec(name);
    if (heading) {
      let level = Number(heading[1]);
      if (level < 1 || level > 6) {
        const clamped = Math.min(Math.max(level, 1), 6);
        this.#issue(
          "heading_level",
          `heading level ${level} clamped to ${clamped}`,
          name,
          this.#peek()?.offset,
        );
        level = clamped;
      }
      const c = this.#readText(name, { inline: true });
      const node: HeadingNode = { kind: "heading", level, text: c.text, ...this.#nodeBase(c) };
      return withInline(node, c);
    }
    switch (name) {
      case "ordered_list":
      case "unordered_list":
        return this.#list(name);
      case "otsl":
        return this.#table(false);
      case "picture":
      case "chart":
        return this.#picture(name);
      case "key_value_region":
        return this.#keyValues();
      case "inline":
        return this.#inline();
      case "title": {
        const c = this.#readText(name, { inline: true });
        const node: TitleNode = { kind: "title", text: c.text, ...this.#nodeBase(c) };
        return withInline(node, c);
      }
      case "formula": {
        const c = this.#readText(name, {});
        return { kind: "formula", text: c.text, ...this.#nodeBase(c) };
      }
      case "code": {
        const c = this.#readText(name, { code: true });
        const node: BlockNode = {
          kind: "code",
          text: c.text,
          language: c.language ?? "unknown",
          ...this.#nodeBase(c),
        };
        if (c.languageToken !== undefined) node.languageToken = c.languageToken;
        if (c.caption) node.caption = c.caption;
        return node;
      }
      default: {
        const c = this.#readText(name, { inline: true });
        const label = (TEXT_TAGS.has(name) ? name : "text") as TextLabel;
        const node: TextNode = { kind: "text", label, text: c.text, ...this.#nodeBase(c) };
        if (label === "page_header" || label === "page_footer") node.layer = "furniture";
        return withInline(node, c);
      }
    }
  }

  /**
   * Reads a text-like element: text, its locations, and (when allowed) an
   * `<inline>` group or, for code, the language token and a caption.
   */
  #readText(name: string, allow: { inline?: boolean; code?: boolean }): TextContent {
    const open = this.tokens[this.#i++];
    this.#stack.push(name);
    const pieces: (string | InlineNode)[] = [];
    const content: TextContent = { text: "", locs: [], closed: false, offset: open.offset };
    const push = (s: string) => pieces.push(s);
    for (let token = this.#peek(); token !== undefined; token = this.#peek()) {
      if (token.type === "loc") {
        content.locs.push(token.value);
        this.#i++;
      } else if (token.type === "text") {
        push(token.value);
        this.#i++;
      } else if (token.type === "lang") {
        push(token.raw);
        this.#i++;
      } else if (token.type === "close") {
        const how = this.#closing(token, name);
        if (how === "close") {
          this.#i++;
          content.closed = true;
          break;
        }
        if (how === "stop") break;
        const literal: string[] = [];
        this.#foreignClose(token, literal);
        for (const s of literal) pieces.push(s);
      } else if (token.name === "inline" && allow.inline && !this.#tooDeep()) {
        pieces.push(this.#inline());
      } else if (token.name === "caption" && allow.code) {
        const c = this.#readText("caption", {});
        content.caption = { kind: "text", label: "caption", text: c.text, ...this.#nodeBase(c) };
      } else if (isBlockTag(token.name) || (OTSL_TOKENS.has(token.name) && this.#inTable())) {
        break;
      } else if (token.name === "page_break" || token.selfClosing) {
        this.#i++;
      } else {
        push(token.raw);
        this.#i++;
      }
    }
    this.#stack.pop();
    if (!content.closed) this.#unclosed(name, open.offset);
    const groups = pieces.filter((p): p is InlineNode => typeof p !== "string");
    const blankText = pieces.every((p) => typeof p !== "string" || isBlank(p));
    if (groups.length === 1 && blankText) {
      content.inline = groups[0];
    } else {
      const joined = pieces.map((p) => (typeof p === "string" ? p : ` ${plainText(p)} `)).join("");
      content.text = pyStrip(joined);
    }
    if (allow.code) {
      const m = /^<_([^>]+)_>/.exec(content.text);
      if (m) {
        content.text = content.text.slice(m[0].length);
        content.language = codeLanguage(m[1]);
        content.languageToken = m[1];
      }
    }
    return content;
  }

  #inline(): InlineNode {
    const open = this.tokens[this.#i++];
    this.#stack.push("inline");
    const locs: number[] = [];
    const children: InlineChild[] = [];
    let closed = false;
    for (let token = this.#peek(); token !== undefined; token = this.#peek()) {
      if (token.type === "loc") {
        locs.push(token.value);
        this.#i++;
      } else if (token.type === "text" || token.type === "lang") {
        const value = token.type === "text" ? token.value : token.raw;
        if (!isBlank(value)) {
          children.push({ kind: "text", label: "text", text: pyStrip(value), ...this.#base([]) });
        }
        this.#i++;
      } else if (token.type === "close") {
        const end = this.#endAt(token, "inline");
        if (end) {
          closed = end === "closed";
          break;
        }
      } else if (
        (INLINE_TAGS.has(token.name) || HEADING_TAG.test(token.name)) && !this.#tooDeep()
      ) {
        children.push(this.#element(token.name) as InlineChild);
      } else if (isBlockTag(token.name)) {
        break;
      } else {
        this.#i++;
        if (!token.selfClosing && token.name !== "page_break") {
          this.#issue(
            "misplaced_element",
            `<${token.name}> inside <inline>; ignored`,
            token.name,
            token.offset,
          );
        }
      }
    }
    this.#stack.pop();
    if (!closed) this.#unclosed("inline", open.offset);
    const group: InlineNode = { kind: "inline", children, ...this.#base(locs) };
    if (!closed) group.truncated = true;
    // docling gives every member the group's box.
    for (const child of children) if (!child.bbox && group.bbox) child.bbox = group.bbox;
    return group;
  }

  #list(name: "ordered_list" | "unordered_list"): ListNode {
    const open = this.tokens[this.#i++];
    this.#stack.push(name);
    const ordered = name === "ordered_list";
    const locs: number[] = [];
    const items: ListItemNode[] = [];
    let closed = false;
    for (let token = this.#peek(); token !== undefined; token = this.#peek()) {
      if (token.type === "loc") {
        locs.push(token.value);
        this.#i++;
      } else if (token.type === "text" || token.type === "lang") {
        const value = token.type === "text" ? token.value : token.raw;
        this.#i++;
        if (isBlank(value)) continue;
        this.#issue(
          "stray_text",
          "text directly inside a list read as an item",
          name,
          token.offset,
        );
        items.push({
          kind: "list_item",
          text: pyStrip(value),
          marker: ordered ? `${items.length + 1}.` : "",
          enumerated: ordered,
          page: this.page,
          layer: "body",
        });
      } else if (token.type === "close") {
        const how = this.#closing(token, name);
        const otherList = (token.name === "ordered_list" || token.name === "unordered_list") &&
          how !== "stop";
        if (how === "close" || otherList) {
          if (otherList && how !== "close") {
            this.#issue("unclosed_element", `<${name}> closed by ${token.raw}`, name, token.offset);
          }
          this.#i++;
          closed = true;
          break;
        }
        if (how === "stop") break;
        this.#foreignClose(token);
      } else if (isBlockTag(token.name) && this.#tooDeep()) {
        break;
      } else if (token.name === "list_item") {
        const item = this.#listItem(ordered, items.length + 1);
        // docling writes a sub-list as an extra item holding only the list;
        // it belongs to the item before it.
        const previous = items.at(-1);
        if (previous && !item.text && !item.inline && item.children?.length && !item.truncated) {
          (previous.children ??= []).push(...item.children);
        } else {
          items.push(item);
        }
      } else if (token.name === "ordered_list" || token.name === "unordered_list") {
        // A list directly inside a list belongs to the previous item.
        const nested = this.#list(token.name);
        let owner = items.at(-1);
        if (!owner) {
          owner = {
            kind: "list_item",
            text: "",
            marker: ordered ? "1." : "",
            enumerated: ordered,
            page: this.page,
            layer: "body",
          };
          items.push(owner);
        }
        (owner.children ??= []).push(nested);
      } else if (isBlockTag(token.name)) {
        break;
      } else {
        this.#i++;
        if (!token.selfClosing && token.name !== "page_break") {
          this.#issue(
            "misplaced_element",
            `<${token.name}> inside a list; ignored`,
            token.name,
            token.offset,
          );
        }
      }
    }
    this.#stack.pop();
    if (!closed) this.#unclosed(name, open.offset);
    const list: ListNode = { kind: "list", ordered, items, ...this.#base(locs) };
    if (!closed) list.truncated = true;
    return list;
  }

  #listItem(ordered: boolean, index: number): ListItemNode {
    const open = this.tokens[this.#i++];
    this.#stack.push("list_item");
    const locs: number[] = [];
    const pieces: (string | InlineNode)[] = [];
    const children: ListNode[] = [];
    let closed = false;
    for (let token = this.#peek(); token !== undefined; token = this.#peek()) {
      if (token.type === "loc") {
        locs.push(token.value);
        this.#i++;
      } else if (token.type === "text" || token.type === "lang") {
        pieces.push(token.type === "text" ? token.value : token.raw);
        this.#i++;
      } else if (token.type === "close") {
        const how = this.#closing(token, "list_item");
        if (how === "close") {
          this.#i++;
          closed = true;
          break;
        }
        if (how === "stop") break;
        const strings: string[] = [];
        this.#foreignClose(token, strings);
        pieces.push(...strings);
      } else if (isBlockTag(token.name) && this.#tooDeep()) {
        break;
      } else if (token.name === "inline") {
        pieces.push(this.#inline());
      } else if (token.name === "ordered_list" || token.name === "unordered_list") {
        children.push(this.#list(token.name));
      } else if (isBlockTag(token.name)) {
        break;
      } else if (token.name === "page_break" || token.selfClosing) {
        this.#i++;
      } else {
        pieces.push(token.raw);
        this.#i++;
      }
    }
    this.#stack.pop();
    if (!closed) this.#unclosed("list_item", open.offset);
    const groups = pieces.filter((p): p is InlineNode => typeof p !== "string");
    const blankText = pieces.every((p) => typeof p !== "string" || isBlank(p));
    const item: ListItemNode = {
      kind: "list_item",
      text: "",
      marker: ordered ? `${index}.` : "",
      enumerated: ordered,
      ...this.#base(locs),
    };
    if (groups.length === 1 && blankText) item.inline = groups[0];
    else {item.text = pyStrip(
        pieces.map((p) => (typeof p === "string" ? p : ` ${plainText(p)} `)).join(""),
      );}
    if (children.length > 0) item.children = children;
    if (!closed) item.truncated = true;
    return item;
  }

  /** `<otsl>` (or, with `implicit`, bare OTSL cells without the wrapper). */
  #table(implicit: boolean): TableNode {
    const open = this.#peek()!;
    if (!implicit) {
      this.#i++;
      this.#stack.push("otsl");
    }
    const locs: number[] = [];
    const otsl = new OtslRows();
    let caption: TextNode | undefined;
    let closed = false;
    for (let token = this.#peek(); token !== undefined; token = this.#peek()) {
      if (token.type === "loc") {
        if (otsl.empty) locs.push(token.value);
        this.#i++;
      } else if (token.type === "text" || token.type === "lang") {
        const value = token.type === "text" ? token.value : token.raw;
        if (otsl.cell) otsl.cell.text += value;
        else if (!isBlank(value)) {
          this.#issue("stray_text", "text outside a table cell ignored", "otsl", token.offset);
        }
        this.#i++;
      } else if (token.type === "close") {
        if (implicit) break;
        const end = this.#endAt(token, "otsl");
        if (end) {
          closed = end === "closed";
          break;
        }
      } else if (OTSL_TOKENS.has(token.name)) {
        otsl.token(token.name);
        this.#i++;
      } else if (token.name === "caption" && !implicit) {
        const c = this.#readText("caption", {});
        caption = { kind: "text", label: "caption", text: c.text, ...this.#nodeBase(c) };
      } else if (isBlockTag(token.name)) {
        // Inside a cell: rich content, kept as the cell's text. Elsewhere the table is over.
        if (!otsl.cell || implicit || this.#tooDeep()) break;
        const node = this.#element(token.name);
        otsl.cell.text = [pyStrip(otsl.cell.text), plainText(node)].filter((t) => t).join(" ");
      } else {
        this.#i++;
        if (otsl.cell) otsl.cell.text += token.raw;
      }
    }
    if (!implicit) this.#stack.pop();
    const atEnd = this.#peek() === undefined;
    if (!closed && !implicit) this.#unclosed("otsl", open.offset);
    const partial = otsl.finish();
    let rows = otsl.rows;
    if (!closed && !implicit && atEnd) rows = this.#collapseRows(rows, partial);
    const data = buildTable(rows, (m) => this.#issue("irregular_table", m, "otsl", open.offset));
    const table: TableNode = { kind: "table", data, ...this.#base(locs) };
    if (caption) table.caption = caption;
    if (!closed && !implicit) table.truncated = true;
    return table;
  }

  #picture(name: "picture" | "chart"): PictureNode {
    const open = this.tokens[this.#i++];
    this.#stack.push(name);
    const locs: number[] = [];
    const otsl = new OtslRows();
    const picture: PictureNode = { kind: "picture", page: this.page, layer: "body" };
    let nested: TableNode | undefined;
    let closed = false;
    for (let token = this.#peek(); token !== undefined; token = this.#peek()) {
      if (token.type === "loc") {
        if (otsl.empty) locs.push(token.value);
        this.#i++;
      } else if (token.type === "text" || token.type === "lang") {
        const value = token.type === "text" ? token.value : token.raw;
        if (otsl.cell) otsl.cell.text += value;
        else if (!isBlank(value)) {
          this.#issue("stray_text", `text inside <${name}> ignored`, name, token.offset);
        }
        this.#i++;
      } else if (token.type === "close") {
        const end = this.#endAt(token, name);
        if (end) {
          closed = end === "closed";
          break;
        }
      } else if (PICTURE_CLASSES.has(token.name)) {
        picture.classification ??= LEGACY_CLASS_ALIASES[token.name] ?? token.name;
        this.#i++;
      } else if (OTSL_TOKENS.has(token.name)) {
        otsl.token(token.name);
        this.#i++;
      } else if (token.name === "caption") {
        const c = this.#readText("caption", {});
        picture.caption = { kind: "text", label: "caption", text: c.text, ...this.#nodeBase(c) };
      } else if (token.name === "smiles") {
        picture.smiles = this.#readText("smiles", {}).text;
      } else if (token.name === "otsl" && otsl.empty && !nested && !this.#tooDeep()) {
        // Chart data wrapped in its own <otsl>: take the table as the data.
        nested = this.#table(false);
        if (!picture.caption && nested.caption) picture.caption = nested.caption;
      } else if (isBlockTag(token.name)) {
        break;
      } else {
        this.#i++;
        if (otsl.cell) otsl.cell.text += token.raw;
        else if (!token.selfClosing) {
          this.#issue(
            "unknown_tag",
            `<${token.name}> inside <${name}> ignored`,
            token.name,
            token.offset,
          );
        }
      }
    }
    this.#stack.pop();
    if (!closed) {
      this.#unclosed(name, open.offset);
      picture.truncated = true;
    }
    const bbox = this.#box(locs);
    if (bbox) picture.bbox = bbox;
    otsl.finish();
    if (nested) {
      picture.chart = { title: picture.classification ?? "other", data: nested.data };
    } else if (name === "chart" || otsl.rows.length > 0) {
      const data = buildTable(
        otsl.rows,
        (m) => this.#issue("irregular_table", m, name, open.offset),
      );
      picture.chart = { title: picture.classification ?? "other", data };
    }
    return picture;
  }

  #keyValues(): KeyValueNode {
    const open = this.tokens[this.#i++];
    this.#stack.push("key_value_region");
    const locs: number[] = [];
    const cells: KeyValueCell[] = [];
    const links: [number, number][] = [];
    let closed = false;
    for (let token = this.#peek(); token !== undefined; token = this.#peek()) {
      if (token.type === "loc") {
        if (cells.length === 0) locs.push(token.value);
        this.#i++;
      } else if (token.type !== "open" && token.type !== "close") {
        this.#i++;
      } else if (token.type === "close") {
        const end = this.#endAt(token, "key_value_region");
        if (end) {
          closed = end === "closed";
          break;
        }
      } else if (/^(key|value)_\d+$/.test(token.name)) {
        cells.push(this.#keyValueCell(token.name, links));
      } else if (isBlockTag(token.name)) {
        break;
      } else {
        this.#i++;
      }
    }
    this.#stack.pop();
    if (!closed) this.#unclosed("key_value_region", open.offset);
    const ids = new Set(cells.map((c) => c.id));
    const node: KeyValueNode = {
      kind: "key_value",
      cells,
      links: links.filter(([, target]) => ids.has(target)).map(([source, target]) => ({
        source,
        target,
      })),
      ...this.#base(locs),
    };
    if (!closed) node.truncated = true;
    return node;
  }

  #keyValueCell(name: string, links: [number, number][]): KeyValueCell {
    const open = this.tokens[this.#i++];
    this.#stack.push(name);
    const [label, idText] = name.split("_");
    const id = Number(idText);
    const locs: number[] = [];
    const parts: string[] = [];
    let closed = false;
    for (let token = this.#peek(); token !== undefined; token = this.#peek()) {
      if (token.type === "loc") {
        locs.push(token.value);
        this.#i++;
      } else if (token.type === "text" || token.type === "lang") {
        parts.push(token.type === "text" ? token.value : token.raw);
        this.#i++;
      } else if (token.type === "close") {
        const end = this.#endAt(token, name, parts);
        if (end) {
          closed = end === "closed";
          break;
        }
      } else if (/^link_\d+$/.test(token.name)) {
        links.push([id, Number(token.name.slice(5))]);
        this.#i++;
      } else if (/^(key|value)_\d+$/.test(token.name) || isBlockTag(token.name)) {
        break;
      } else {
        parts.push(token.raw);
        this.#i++;
      }
    }
    this.#stack.pop();
    if (!closed) this.#unclosed(name, open.offset);
    const cell: KeyValueCell = {
      id,
      label: label as "key" | "value",
      text: pyStrip(parts.join("")),
    };
    const bbox = this.#box(locs);
    if (bbox) cell.bbox = bbox;
    return cell;
  }

  /** Collapses a repeating tail of table rows (a table cut off while looping). */
  #collapseRows(rows: OtslCell[][], partial: boolean): OtslCell[][] {
    const min = this.options.collapseRepeats;
    if (min === false || rows.length < min) return rows;
    const keys = rows.map((row) => JSON.stringify(row.map((c) => [c.token, pyStrip(c.text)])));
    const complete = partial ? keys.slice(0, -1) : keys;
    const run = tailRepeat(complete, min);
    if (!run) return rows;
    this.#issue(
      "repetition",
      `${run.count} repeated table rows at the end of a cut-off table collapsed to one copy`,
      "otsl",
    );
    return rows.slice(0, run.start + run.period);
  }

  /** Collapses a repeating tail of the page's elements, and of a list ending the page. */
  #collapsePage(blocks: BlockNode[]): BlockNode[] {
    const min = this.options.collapseRepeats;
    if (min === false) return blocks;
    const out = collapseTail(
      blocks,
      blockKey,
      min,
      (count, period) =>
        this.#issue(
          "repetition",
          `${count} copies of the last ${period} element(s) collapsed to one`,
        ),
    );
    const last = out.at(-1);
    if (last?.kind === "list") {
      last.items = collapseTail(
        last.items,
        itemKey,
        min,
        (count) =>
          this.#issue(
            "repetition",
            `${count} identical list items at the end collapsed to one`,
            "list_item",
          ),
      );
    }
    return out;
  }
}

/** Moves an inline group read inside an element onto the element. */
function withInline<T extends TextNode | TitleNode | HeadingNode>(
  node: T,
  content: TextContent,
): T {
  if (content.inline) node.inline = content.inline;
  return node;
}

function blockKey(node: BlockNode): string {
  switch (node.kind) {
    case "heading":
      return `heading${node.level}|${node.text}`;
    case "text":
      return `text:${node.label}|${node.text}`;
    case "table":
      return `table|${JSON.stringify(node.data)}|${node.caption?.text ?? ""}`;
    case "picture":
      return `picture|${node.classification ?? ""}|${node.caption?.text ?? ""}|${
        JSON.stringify(node.chart ?? null)
      }`;
    default:
      return `${node.kind}|${plainText(node)}`;
  }
}

function itemKey(item: ListItemNode): string {
  return `item|${plainText(item)}`;
}

/**
 * Drops a repeating tail beyond its first copy. When the last element was
 * cut off and reads as the start of the repeated unit, it goes too.
 */
function collapseTail<T extends { truncated?: boolean }>(
  nodes: T[],
  key: (node: T) => string,
  min: number,
  report: (count: number, period: number) => void,
): T[] {
  const keys = nodes.map(key);
  const last = nodes.at(-1);
  const fragment = last?.truncated === true;
  const run = tailRepeat(fragment ? keys.slice(0, -1) : keys, min);
  if (!run) return nodes;
  report(run.count, run.period);
  const kept = nodes.slice(0, run.start + run.period);
  if (fragment) {
    const head = keys[run.start];
    const tail = keys[keys.length - 1];
    const prefix = tail.split("|")[0] === head.split("|")[0] && head.startsWith(tail);
    if (!prefix) kept.push(last!);
  }
  return kept;
}
