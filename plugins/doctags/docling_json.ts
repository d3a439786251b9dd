/**
 * JSON export. Two flavours:
 * - {@link toJson}: this package's own document model, as JSON;
 * - {@link toDoclingJson}: docling-core's `DoclingDocument` (schema 1.10.0),
 *   as `json.dumps(doc.export_to_dict(), indent=2, ensure_ascii=False)`
 *   writes it: flat `texts` / `groups` / `tables` / `pictures` /
 *   `key_value_items` arrays in insertion order joined by `$ref`s, captions
 *   placed before their owner, Python float formatting.
 *
 * @module
 */
import type {
  BlockNode,
  BoundingBox,
  DocTagsDocument,
  InlineChild,
  InlineNode,
  KeyValueNode,
  ListItemNode,
  ListNode,
  PictureNode,
  TableData,
  TableNode,
  TextNode,
} from "./document.ts";
import { tableGrid } from "./document.ts";
import { pyLen } from "./python.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";

/** Options of {@link toJson}. */
export interface JsonOptions {
  /** Indentation (default 2); 0 for one line. */
  indent?: number;
}

/** The document in this package's own model, as JSON text. */
export function toJson(doc: DocTagsDocument, options: JsonOptions = {}): string {
  return JSON.stringify(doc, null, options.indent ?? 2);
}

/** A number that Python would print as a float (`1.0`, not `1`). */
class Float {
  constructor(readonly value: number) {}
}

type Json = null | boolean | number | string | Float | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

/** Python's `repr(float)`: shortest round-trip digits, exponent below 1e-4 and from 1e16. */
function pyFloat(v: number): string {
  if (!Number.isFinite(v)) {
    // Python would write NaN or Infinity, which is not JSON.
    throw new VlmError("input_invalid", `the document holds the number ${v}, which JSON cannot`, {
      fix: "give finite page sizes and boxes (parseDocTags never produces others)",
    });
  }
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa, exp] = v.toExponential().split("e");
    const e = Number(exp);
    return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  const s = String(v);
  return Number.isInteger(v) ? `${s}.0` : s;
}

/** `json.dumps(value, indent=2, ensure_ascii=False)`. */
function dump(value: Json, indent = ""): string {
  if (value === null) return "null";
  if (value instanceof Float) return pyFloat(value.value);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : pyFloat(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return JSON.stringify(value);
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + dump(v, inner)).join(",\n")}\n${indent}]`;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return "{}";
  return `{\n${
    keys.map((k) => `${inner}${JSON.stringify(k)}: ${dump(value[k], inner)}`).join(",\n")
  }\n${indent}}`;
}

const ref = (path: string): Obj => ({ $ref: path });

function bboxJson(b: BoundingBox): Obj {
  return {
    l: new Float(b.l),
    t: new Float(b.t),
    r: new Float(b.r),
    b: new Float(b.b),
    coord_origin: "TOPLEFT",
  };
}

function cellJson(c: TableData["cells"][number]): Obj {
  return {
    row_span: c.rowSpan,
    col_span: c.colSpan,
    start_row_offset_idx: c.startRow,
    end_row_offset_idx: c.endRow,
    start_col_offset_idx: c.startCol,
    end_col_offset_idx: c.endCol,
    text: c.text,
    column_header: c.columnHeader,
    row_header: c.rowHeader,
    row_section: c.rowSection,
    fillable: false,
  };
}

function tableDataJson(data: TableData): Obj {
  return {
    table_cells: data.cells.map(cellJson),
    num_rows: data.numRows,
    num_cols: data.numCols,
    orientation: "rot_0",
    grid: tableGrid(data).map((row) => row.map(cellJson)),
  };
}

/** Options of {@link toDoclingJson}. */
export interface DoclingJsonOptions {
  /**
   * Whether the page images were known when reading (docling then stores
   * picture classes only as `meta`, without the legacy `annotations`).
   * Default false, as for a document parsed without page images.
   */
  withImages?: boolean;
}

/**
 * The document as docling-core's `DoclingDocument` JSON (`export_to_dict()`
 * dumped with `indent=2, ensure_ascii=False`).
 */
export function toDoclingJson(doc: DocTagsDocument, options: DoclingJsonOptions = {}): string {
  const texts: Obj[] = [];
  const groups: Obj[] = [];
  const tables: Obj[] = [];
  const pictures: Obj[] = [];
  const kvs: Obj[] = [];
  const body: Obj = {
    self_ref: "#/body",
    children: [],
    content_layer: "body",
    name: "_root_",
    label: "unspecified",
  };
  const withImages = options.withImages ?? false;

  const prov = (node: { page: number; bbox?: BoundingBox }, length: number): Json[] =>
    node.bbox ? [{ page_no: node.page, bbox: bboxJson(node.bbox), charspan: [0, length] }] : [];

  const attach = (parent: Obj, path: string) => (parent.children as Json[]).push(ref(path));

  const addText = (
    node: InlineChild | TextNode | ListItemNode,
    parent: Obj,
    parentPath: string,
  ): Obj => {
    const path = `#/texts/${texts.length}`;
    const label = node.kind === "text"
      ? node.label
      : node.kind === "heading"
      ? "section_header"
      : node.kind;
    const item: Obj = {
      self_ref: path,
      parent: ref(parentPath),
      children: [],
      content_layer: node.layer,
      label,
      // For code, docling measures the text before removing the language token.
      prov: prov(
        node,
        pyLen(node.text) +
          (node.kind === "code" && node.languageToken !== undefined
            ? pyLen(node.languageToken) + 4
            : 0),
      ),
      orig: node.text,
      text: node.text,
    };
    texts.push(item);
    attach(parent, path);
    if (node.kind === "heading") item.level = node.level;
    if (node.kind === "list_item") {
      item.enumerated = node.enumerated;
      item.marker = node.marker;
    }
    if (node.kind === "code") {
      item.captions = [];
      item.references = [];
      item.footnotes = [];
      item.code_language = node.language;
    }
    if (node.kind !== "code" && node.kind !== "formula" && node.inline) {
      addInline(node.inline, item, path);
    }
    return item;
  };

  const addInline = (group: InlineNode, parent: Obj, parentPath: string) => {
    const path = `#/groups/${groups.length}`;
    const item: Obj = {
      self_ref: path,
      parent: ref(parentPath),
      children: [],
      content_layer: "body",
      name: "group",
      label: "inline",
    };
    groups.push(item);
    attach(parent, path);
    for (const child of group.children) addText(child, item, path);
  };

  const addList = (list: ListNode, parent: Obj, parentPath: string) => {
    const path = `#/groups/${groups.length}`;
    const item: Obj = {
      self_ref: path,
      parent: ref(parentPath),
      children: [],
      content_layer: "body",
      name: "list",
      label: "list",
    };
    groups.push(item);
    attach(parent, path);
    for (const li of list.items) {
      const liItem = addText(li, item, path);
      for (const child of li.children ?? []) addList(child, liItem, liItem.self_ref as string);
    }
  };

  const addCaption = (caption: TextNode | undefined): string | undefined =>
    caption ? addText(caption, body, "#/body").self_ref as string : undefined;

  const addTable = (table: TableNode) => {
    const captionRef = addCaption(table.caption);
    const path = `#/tables/${tables.length}`;
    tables.push({
      self_ref: path,
      parent: ref("#/body"),
      children: [],
      content_layer: table.layer,
      label: "table",
      prov: prov(table, 0),
      captions: captionRef ? [ref(captionRef)] : [],
      references: [],
      footnotes: [],
      data: tableDataJson(table.data),
      annotations: [],
    });
    attach(body, path);
  };

  const addPicture = (picture: PictureNode) => {
    const captionRef = addCaption(picture.caption);
    const path = `#/pictures/${pictures.length}`;
    const item: Obj = {
      self_ref: path,
      parent: ref("#/body"),
      children: [],
      content_layer: picture.layer,
    };
    const meta: Obj = {};
    const annotations: Json[] = [];
    if (picture.classification) {
      meta.classification = {
        predictions: [{
          confidence: new Float(1),
          created_by: "load_from_doctags",
          class_name: picture.classification,
        }],
      };
      if (!withImages) {
        annotations.push({
          kind: "classification",
          provenance: "load_from_doctags",
          predicted_classes: [{ class_name: picture.classification, confidence: new Float(1) }],
        });
      }
    }
    if (picture.chart) {
      meta.tabular_chart = {
        title: picture.chart.title,
        chart_data: tableDataJson(picture.chart.data),
      };
      if (!withImages) {
        annotations.push({
          kind: "tabular_chart_data",
          title: picture.chart.title,
          chart_data: tableDataJson(picture.chart.data),
        });
      }
    }
    if (Object.keys(meta).length > 0) item.meta = meta;
    Object.assign(item, {
      label: "picture",
      prov: prov(picture, 0),
      captions: captionRef ? [ref(captionRef)] : [],
      references: [],
      footnotes: [],
    });
    if (picture.image) {
      const { mimetype, dpi, size, uri } = picture.image;
      item.image = {
        mimetype,
        dpi,
        size: { width: new Float(size.width), height: new Float(size.height) },
        uri,
      };
    }
    item.annotations = annotations;
    pictures.push(item);
    attach(body, path);
  };

  const addKeyValues = (node: KeyValueNode) => {
    const path = `#/key_value_items/${kvs.length}`;
    kvs.push({
      self_ref: path,
      parent: ref("#/body"),
      children: [],
      content_layer: node.layer,
      label: "key_value_region",
      prov: prov(node, 0),
      captions: [],
      references: [],
      footnotes: [],
      graph: {
        cells: node.cells.map((c) => {
          const cell: Obj = { label: c.label, cell_id: c.id, text: c.text, orig: c.text };
          if (c.bbox) cell.prov = { page_no: 1, bbox: bboxJson(c.bbox), charspan: [0, 0] };
          return cell;
        }),
        links: node.links.map((l) => ({
          label: "to_value",
          source_cell_id: l.source,
          target_cell_id: l.target,
        })),
      },
    });
    attach(body, path);
  };

  const addBlock = (block: BlockNode) => {
    switch (block.kind) {
      case "list":
        return addList(block, body, "#/body");
      case "inline":
        return addInline(block, body, "#/body");
      case "table":
        return addTable(block);
      case "picture":
        return addPicture(block);
      case "key_value":
        return addKeyValues(block);
      case "code": {
        const captionRef = addCaption(block.caption);
        const item = addText(block, body, "#/body");
        if (captionRef) item.captions = [ref(captionRef)];
        return;
      }
      default:
        addText(block, body, "#/body");
    }
  };

  for (const block of doc.body) addBlock(block);

  const pages: Obj = {};
  for (const p of doc.pages) {
    pages[String(p.pageNo)] = {
      size: { width: new Float(p.width), height: new Float(p.height) },
      page_no: p.pageNo,
    };
  }
  return dump({
    schema_name: "DoclingDocument",
    version: "1.10.0",
    name: doc.name,
    furniture: {
      self_ref: "#/furniture",
      children: [],
      content_layer: "furniture",
      name: "_root_",
      label: "unspecified",
    },
    body,
    groups,
    texts,
    pictures,
    tables,
    key_value_items: kvs,
    form_items: [],
    pages,
  });
}
