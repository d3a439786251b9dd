/**
 * The typed document a DocTags string parses into.
 *
 * The model follows docling-core's DoclingDocument closely enough that the
 * exporters can reproduce docling's Markdown, HTML and JSON, but it is a tree
 * (blocks hold their own captions, list items, cells) rather than docling's
 * flat arrays joined by `$ref`s.
 *
 * Coordinates: every `bbox` is in page units with a top-left origin. A DocTags
 * location `<loc_N>` is `N / 500` of the page side, so with the default 1×1
 * page a box holds fractions of the page; give the parser the page size in
 * pixels to get pixel boxes.
 *
 * @module
 */
import { checkGridSize } from "./table_bound.ts";

/** A rectangle on the page: left, top, right, bottom, origin at the top-left corner. */
export interface BoundingBox {
  /** Left edge. */
  l: number;
  /** Top edge. */
  t: number;
  /** Right edge. */
  r: number;
  /** Bottom edge. */
  b: number;
}

/** Width and height of a page. */
export interface PageSize {
  /** Page width (pixels, or 1 when unknown). */
  width: number;
  /** Page height (pixels, or 1 when unknown). */
  height: number;
}

/** One page of the document. */
export interface PageInfo extends PageSize {
  /** 1-based page number. */
  pageNo: number;
}

/**
 * Where an element belongs: the running text (`body`) or page furniture such
 * as running headers and footers, which exports leave out by default.
 */
export type ContentLayer = "body" | "furniture";

/** Fields every element carries. */
export interface NodeBase {
  /** 1-based number of the page the element was read from. */
  page: number;
  /**
   * The element's box (the first four `<loc_N>` tokens, scaled to the page).
   * Absent when the DocTags had no location, or when docling-compatible mode
   * drops it the way docling-core does.
   */
  bbox?: BoundingBox;
  /** Body text or page furniture. */
  layer: ContentLayer;
  /**
   * Set when the element's closing tag never came (generation stopped or the
   * model skipped it). Tolerant mode keeps what was read before that point.
   */
  truncated?: boolean;
}

/** Labels of plain text blocks. */
export type TextLabel =
  | "text"
  | "caption"
  | "footnote"
  | "page_header"
  | "page_footer"
  | "checkbox_selected"
  | "checkbox_unselected"
  | "paragraph"
  | "reference"
  | "handwritten_text"
  | "document_index";

/** A paragraph-like block: `<text>`, `<caption>`, `<footnote>`, `<page_header>`, ... */
export interface TextNode extends NodeBase {
  /** Discriminator. */
  kind: "text";
  /** What kind of text block this is. */
  label: TextLabel;
  /** The text, with DocTags tokens removed. */
  text: string;
  /** When the block's content is an `<inline>` group, the group (and `text` is empty). */
  inline?: InlineNode;
}

/** The document title, `<title>`. */
export interface TitleNode extends NodeBase {
  /** Discriminator. */
  kind: "title";
  /** The title text. */
  text: string;
  /** When the title's content is an `<inline>` group, the group (and `text` is empty). */
  inline?: InlineNode;
}

/** A section heading, `<section_header_level_N>`. */
export interface HeadingNode extends NodeBase {
  /** Discriminator. */
  kind: "heading";
  /** The N of `section_header_level_N` (1..6); Markdown prints N+1 `#`. */
  level: number;
  /** The heading text. */
  text: string;
  /** When the heading's content is an `<inline>` group, the group (and `text` is empty). */
  inline?: InlineNode;
}

/** A code block, `<code>`; its language comes from a leading `<_Name_>` token. */
export interface CodeNode extends NodeBase {
  /** Discriminator. */
  kind: "code";
  /** The code, newlines and indentation kept. */
  text: string;
  /** A docling code-language name (`Python`, `C++`, ...) or `unknown`. */
  language: string;
  /** The name in the `<_Name_>` token as written (`Klingon` stays `Klingon` here), when there was one. */
  languageToken?: string;
  /** A `<caption>` nested in the code block (tolerant mode). */
  caption?: TextNode;
}

/** A formula, `<formula>`, holding LaTeX. */
export interface FormulaNode extends NodeBase {
  /** Discriminator. */
  kind: "formula";
  /** The LaTeX source (empty when the model did not decode it). */
  text: string;
}

/** A list, `<ordered_list>` or `<unordered_list>`. */
export interface ListNode extends NodeBase {
  /** Discriminator. */
  kind: "list";
  /** True for `<ordered_list>`. */
  ordered: boolean;
  /** The items, in order. */
  items: ListItemNode[];
}

/** A list item, `<list_item>`. */
export interface ListItemNode extends NodeBase {
  /** Discriminator. */
  kind: "list_item";
  /** The item text (without a Markdown marker; SmolDocling often writes "1." into it). */
  text: string;
  /** The item's marker: `1.`, `2.`, ... in ordered lists, empty otherwise. */
  marker: string;
  /** True in ordered lists. */
  enumerated: boolean;
  /** The item's `<inline>` content, when it has one. */
  inline?: InlineNode;
  /** Lists nested in the item (tolerant mode). */
  children?: ListNode[];
}

/** Elements an `<inline>` group may hold. */
export type InlineChild = TextNode | TitleNode | HeadingNode | CodeNode | FormulaNode;

/** An `<inline>` group: short pieces rendered on one line, joined by spaces. */
export interface InlineNode extends NodeBase {
  /** Discriminator. */
  kind: "inline";
  /** The pieces, in order. */
  children: InlineChild[];
}

/** One table cell, spans included. Offsets are 0-based, ends exclusive. */
export interface TableCell {
  /** Cell text. */
  text: string;
  /** Rows the cell covers. */
  rowSpan: number;
  /** Columns the cell covers. */
  colSpan: number;
  /** First row. */
  startRow: number;
  /** Row after the last one. */
  endRow: number;
  /** First column. */
  startCol: number;
  /** Column after the last one. */
  endCol: number;
  /** `<ched>` cell (tolerant mode only; docling-core drops the header kinds). */
  columnHeader: boolean;
  /** `<rhed>` cell (tolerant mode only). */
  rowHeader: boolean;
  /** `<srow>` cell (tolerant mode only). */
  rowSection: boolean;
}

/** A table's structure. */
export interface TableData {
  /** Number of rows. */
  numRows: number;
  /** Number of columns (the longest row; short rows are padded with empty cells). */
  numCols: number;
  /** The cells that start somewhere, in reading order. */
  cells: TableCell[];
}

/** A table, `<otsl>`. */
export interface TableNode extends NodeBase {
  /** Discriminator. */
  kind: "table";
  /** Rows, columns and cells. */
  data: TableData;
  /** The table's caption. */
  caption?: TextNode;
}

/** A picture, `<picture>`, or a chart, `<chart>` (a picture with its data as a table). */
export interface PictureNode extends NodeBase {
  /** Discriminator. */
  kind: "picture";
  /** The class token (`bar_chart`, `logo`, `other`, ...), if there was one. */
  classification?: string;
  /** For `<chart>`: the chart data read from its OTSL body. */
  chart?: { title: string; data: TableData };
  /** The picture's caption. */
  caption?: TextNode;
  /** A `<smiles>` string (chemistry), tolerant mode. */
  smiles?: string;
  /** The picture's pixels, once cropped from the page image and stored (docling's `ImageRef`). */
  image?: PictureImage;
}

/** Where a picture's cropped pixels are stored, as docling's `ImageRef` records it. */
export interface PictureImage {
  /** Media type of the stored file (`image/png`). */
  mimetype: string;
  /** Resolution of the crop: 72 × page-image pixels per page unit. */
  dpi: number;
  /** Crop size in pixels. */
  size: PageSize;
  /** Where the file is: a path relative to the exported document, or a URL. */
  uri: string;
}

/** One cell of a key-value region. */
export interface KeyValueCell {
  /** The N of `<key_N>` / `<value_N>`. */
  id: number;
  /** Key or value. */
  label: "key" | "value";
  /** The cell text. */
  text: string;
  /** The cell's box, when known. */
  bbox?: BoundingBox;
}

/** A `<link_N>` from a key to a value. */
export interface KeyValueLink {
  /** Id of the cell holding the link token. */
  source: number;
  /** Id of the cell it points to. */
  target: number;
}

/** A key-value region (forms), `<key_value_region>`. */
export interface KeyValueNode extends NodeBase {
  /** Discriminator. */
  kind: "key_value";
  /** Keys and values, in order. */
  cells: KeyValueCell[];
  /** Key → value links whose target exists. */
  links: KeyValueLink[];
}

/** Any top-level element. */
export type BlockNode =
  | TextNode
  | TitleNode
  | HeadingNode
  | CodeNode
  | FormulaNode
  | ListNode
  | InlineNode
  | TableNode
  | PictureNode
  | KeyValueNode;

/** Any element, nested ones included. */
export type DocNode = BlockNode | ListItemNode;

/** A parsed DocTags document. */
export interface DocTagsDocument {
  /** Document name (docling uses `Document`). */
  name: string;
  /** Pages, in order. */
  pages: PageInfo[];
  /** Top-level elements in reading order, furniture included (see `layer`). */
  body: BlockNode[];
}

/**
 * Rows × columns grid of a table: every position holds the cell covering it.
 * Throws a `VlmError` (`input_invalid`) for a grid beyond a million positions
 * (parsed tables are clipped well below that).
 */
export function tableGrid(data: TableData): TableCell[][] {
  checkGridSize(data);
  const grid: TableCell[][] = [];
  for (let r = 0; r < data.numRows; r++) {
    const row: TableCell[] = [];
    for (let c = 0; c < data.numCols; c++) row.push(emptyCell(r, c));
    grid.push(row);
  }
  // Later cells overwrite earlier ones, as in docling's TableData.grid.
  for (const cell of data.cells) {
    const rowEnd = Math.min(cell.endRow, data.numRows);
    const colEnd = Math.min(cell.endCol, data.numCols);
    for (let r = Math.min(cell.startRow, data.numRows); r < rowEnd; r++) {
      for (let c = Math.min(cell.startCol, data.numCols); c < colEnd; c++) grid[r][c] = cell;
    }
  }
  return grid;
}

/** An empty 1×1 cell at (row, col). */
export function emptyCell(row: number, col: number): TableCell {
  return {
    text: "",
    rowSpan: 1,
    colSpan: 1,
    startRow: row,
    endRow: row + 1,
    startCol: col,
    endCol: col + 1,
    columnHeader: false,
    rowHeader: false,
    rowSection: false,
  };
}
