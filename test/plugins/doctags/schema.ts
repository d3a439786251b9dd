/**
 * A zod schema of the DocTags document model, used by the tests to check that
 * every parse result is a valid document, plus structural checks zod cannot
 * express (table cells inside the grid, page numbers that exist).
 *
 * @module
 */
import { z } from "zod";
import type { DocTagsDocument } from "../../../plugins/doctags/mod.ts";

// docling-compatible mode divides any location by 500, so a huge `<loc_N>`
// gives an infinite coordinate as in docling; tolerant mode clamps (checked
// separately below).
const coord = z.custom<number>((v) => typeof v === "number" && !Number.isNaN(v), "a number");
const bbox = z.strictObject({ l: coord, t: coord, r: coord, b: coord });
const base = {
  page: z.number().int().min(1),
  bbox: bbox.optional(),
  layer: z.enum(["body", "furniture"]),
  truncated: z.boolean().optional(),
};

const textLabel = z.enum([
  "text",
  "caption",
  "footnote",
  "page_header",
  "page_footer",
  "checkbox_selected",
  "checkbox_unselected",
  "paragraph",
  "reference",
  "handwritten_text",
  "document_index",
]);

const cell = z.strictObject({
  text: z.string(),
  rowSpan: z.number().int().min(1),
  colSpan: z.number().int().min(1),
  startRow: z.number().int().min(0),
  endRow: z.number().int().min(1),
  startCol: z.number().int().min(0),
  endCol: z.number().int().min(1),
  columnHeader: z.boolean(),
  rowHeader: z.boolean(),
  rowSection: z.boolean(),
}).refine(
  (c) => c.endRow - c.startRow === c.rowSpan && c.endCol - c.startCol === c.colSpan,
  "spans match offsets",
);

const tableData = z.strictObject({
  numRows: z.number().int().min(0),
  numCols: z.number().int().min(0),
  cells: z.array(cell),
});

// deno-lint-ignore no-explicit-any
const inline: z.ZodType<any> = z.lazy(() =>
  z.strictObject({ kind: z.literal("inline"), children: z.array(inlineChild), ...base })
);
const textNode = z.strictObject({
  kind: z.literal("text"),
  label: textLabel,
  text: z.string(),
  inline: inline.optional(),
  ...base,
});
const titleNode = z.strictObject({
  kind: z.literal("title"),
  text: z.string(),
  inline: inline.optional(),
  ...base,
});
const headingNode = z.strictObject({
  kind: z.literal("heading"),
  level: z.number().int().min(1).max(6),
  text: z.string(),
  inline: inline.optional(),
  ...base,
});
const codeNode = z.strictObject({
  kind: z.literal("code"),
  text: z.string(),
  language: z.string().min(1),
  languageToken: z.string().optional(),
  caption: textNode.optional(),
  ...base,
});
const formulaNode = z.strictObject({ kind: z.literal("formula"), text: z.string(), ...base });
const inlineChild = z.discriminatedUnion("kind", [
  textNode,
  titleNode,
  headingNode,
  codeNode,
  formulaNode,
]);

// deno-lint-ignore no-explicit-any
const listNode: z.ZodType<any> = z.lazy(() =>
  z.strictObject({
    kind: z.literal("list"),
    ordered: z.boolean(),
    items: z.array(listItem),
    ...base,
  })
);
const listItem = z.strictObject({
  kind: z.literal("list_item"),
  text: z.string(),
  marker: z.string(),
  enumerated: z.boolean(),
  inline: inline.optional(),
  children: z.array(listNode).optional(),
  ...base,
});

const tableNode = z.strictObject({
  kind: z.literal("table"),
  data: tableData,
  caption: textNode.optional(),
  ...base,
});
const pictureNode = z.strictObject({
  kind: z.literal("picture"),
  classification: z.string().min(1).optional(),
  chart: z.strictObject({ title: z.string(), data: tableData }).optional(),
  caption: textNode.optional(),
  smiles: z.string().optional(),
  image: z.strictObject({
    mimetype: z.string().min(1),
    dpi: z.number().int().min(0),
    size: z.strictObject({ width: z.number().int().min(1), height: z.number().int().min(1) }),
    uri: z.string().min(1),
  }).optional(),
  ...base,
});
const keyValueNode = z.strictObject({
  kind: z.literal("key_value"),
  cells: z.array(z.strictObject({
    id: z.number().int().min(0),
    label: z.enum(["key", "value"]),
    text: z.string(),
    bbox: bbox.optional(),
  })),
  links: z.array(z.strictObject({ source: z.number().int(), target: z.number().int() })),
  ...base,
});

/** Block schemas by kind (a dispatch is much faster than trying a union). */
const BLOCKS: Record<string, z.ZodType> = {
  text: textNode,
  title: titleNode,
  heading: headingNode,
  code: codeNode,
  formula: formulaNode,
  list: listNode,
  inline,
  table: tableNode,
  picture: pictureNode,
  key_value: keyValueNode,
};
const block = z.custom<unknown>((value) => {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return typeof kind === "string" && kind in BLOCKS && BLOCKS[kind].safeParse(value).success;
}, "invalid block");

/** The whole document. */
export const documentSchema = z.strictObject({
  name: z.string(),
  pages: z.array(z.strictObject({
    pageNo: z.number().int().min(1),
    width: z.number().positive(),
    height: z.number().positive(),
  })),
  body: z.array(block),
});

/**
 * Throws with a readable message unless `doc` is a valid, self-consistent
 * document. With `tolerant` (documents from tolerant mode) also: every table
 * cell lies inside its grid and every coordinate is finite. (docling-compatible
 * mode reproduces docling, whose cells can overhang a garbled grid and whose
 * boxes take any location value.)
 */
export function assertValidDocument(doc: DocTagsDocument, tolerant = true): void {
  const parsed = documentSchema.safeParse(doc);
  if (!parsed.success) {
    // Name the first bad block's own problems rather than "invalid block".
    const bad = doc.body.find((b) => !BLOCKS[b.kind]?.safeParse(b).success);
    const detail = bad ? BLOCKS[bad.kind]?.safeParse(bad).error?.issues : parsed.error.issues;
    throw new Error(`invalid document: ${JSON.stringify((detail ?? []).slice(0, 3))}`);
  }
  const pages = new Set(doc.pages.map((p) => p.pageNo));
  const tables: {
    numRows: number;
    numCols: number;
    cells: { endRow: number; endCol: number }[];
  }[] = [];
  const visit = (node: unknown) => {
    if (node === null || typeof node !== "object") return;
    const n = node as Record<string, unknown>;
    if (typeof n.page === "number" && !pages.has(n.page) && n.kind !== "key_value") {
      throw new Error(`element on missing page ${n.page}`);
    }
    if (n.numRows !== undefined) tables.push(n as unknown as (typeof tables)[number]);
    if (tolerant && n.bbox !== undefined) {
      const b = n.bbox as Record<string, number>;
      if (![b.l, b.t, b.r, b.b].every(Number.isFinite)) throw new Error("infinite coordinate");
    }
    for (const value of Object.values(n)) {
      if (Array.isArray(value)) value.forEach(visit);
      else visit(value);
    }
  };
  doc.body.forEach(visit);
  if (!tolerant) return;
  for (const t of tables) {
    for (const c of t.cells) {
      if (c.endRow > t.numRows || c.endCol > t.numCols) {
        throw new Error("table cell outside the grid");
      }
    }
  }
}
