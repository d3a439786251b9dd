/**
 * Tolerant mode (the default) on the conformance inputs: it never throws,
 * matches docling where docling's reading is lossless, and keeps, case by
 * case, the content docling-core loses on malformed input. Each deviation
 * below asserts text the tolerant Markdown has and docling's expected output
 * lacks.
 */
import assert from "node:assert/strict";
import {
  parseDocTags,
  toDoclingJson,
  toHtml,
  toJson,
  toMarkdown,
} from "../../../plugins/doctags/mod.ts";
import type { ParseResult } from "../../../plugins/doctags/mod.ts";
import { CASES, type ConformanceCase, expected, input, pagesMode } from "./_conformance.ts";
import { assertValidDocument } from "./schema.ts";

function tolerant(id: string): ParseResult & { md: string; reference: string; c: ConformanceCase } {
  const c = CASES.find((x) => x.id === id)!;
  const result = parseDocTags(input(c), { pages: pagesMode(c) });
  return { ...result, md: toMarkdown(result.document), reference: expected(c, "md") ?? "", c };
}

/** Asserts tolerant Markdown contains `text` and docling's output does not. */
function keeps(r: { md: string; reference: string }, text: string): void {
  assert.ok(
    r.md.includes(text),
    `tolerant output keeps ${JSON.stringify(text)}\n--- got:\n${r.md}`,
  );
  assert.ok(!r.reference.includes(text), `docling's output lacks ${JSON.stringify(text)}`);
}

function codes(r: ParseResult): string[] {
  return r.issues.map((i) => i.code);
}

const test = (name: string, fn: () => void) => Deno.test(`tolerant: ${name}`, fn);

test("never throws on any conformance input, and exports every result", () => {
  assert.equal(CASES.length, 28);
  for (const c of CASES) {
    const { document } = parseDocTags(input(c), { pages: pagesMode(c) });
    assertValidDocument(document);
    toMarkdown(document);
    toHtml(document);
    toJson(document);
    toDoclingJson(document);
  }
});

test("well-formed inputs: Markdown identical to docling's", () => {
  const same = [
    "page_with_pic",
    "barchart",
    "tables_with_captions_01030000000083",
    "picture_formulas_01030000000111",
    "key_value_region",
    "chart_smiles_empty_otsl",
    "misplaced_list_items",
    "docling_paper_2206.01062",
    "picture_classification",
    "right_to_left_01",
    "multi_page",
    "multipage_page_break",
  ];
  for (const id of same) {
    const r = tolerant(id);
    assert.equal(r.md, r.reference, id);
    assert.deepEqual(r.issues, [], `${id}: no issues`);
  }
  const paper = tolerant("docling_paper_2206.01062");
  assert.equal(
    toMarkdown(paper.document, { pageBreakPlaceholder: "<!-- page break -->" }),
    expected(paper.c, "paged.md"),
  );
});

test("well-formed inputs: HTML identical to docling's unless header cells are kept", () => {
  for (
    const id of [
      "page_with_pic",
      "picture_formulas_01030000000111",
      "key_value_region",
      "multi_page",
    ]
  ) {
    const r = tolerant(id);
    assert.equal(toHtml(r.document), expected(r.c, "html"), id);
  }
  // <ched> cells stay header cells (docling drops the kind and prints <td>).
  const chart = tolerant("barchart");
  assert.ok(toHtml(chart.document).includes("<th>Number of impellers</th>"));
});

test("truncated_text: the cut-off paragraph keeps its text", () => {
  const r = tolerant("truncated_text");
  keeps(r, "This paragraph was cut off by max\\_new\\_tokens in the mid");
  assert.deepEqual(codes(r), ["truncated"]);
  assert.equal(r.document.body.at(-1)?.truncated, true);
});

test("truncated_table: the rows read before the cut survive", () => {
  const r = tolerant("truncated_table");
  keeps(r, "| alpha  |       1 |");
  keeps(r, "| beta   |       2 |");
  keeps(r, "| gam    |         |");
});

test("unclosed_tags: an unclosed element ends at the next element", () => {
  const r = tolerant("unclosed_tags");
  // docling merges the first two texts and empties the heading.
  assert.ok(r.reference.includes("Opening text whose closing tag never came\nSecond text"));
  assert.ok(
    r.md.includes("Opening text whose closing tag never came\n\nSecond text, properly closed."),
  );
  keeps(r, "### Unclosed header");
  keeps(r, "Last text.");
  assert.deepEqual(codes(r), ["unclosed_element", "unclosed_element"]);
});

test("repetition_in_unclosed_list: the looping list collapses to one item", () => {
  const r = tolerant("repetition_in_unclosed_list");
  keeps(r, "- The value is 42.");
  assert.equal(r.md.split("The value is 42.").length - 1, 1);
  assert.ok(
    !r.md.includes("The val\n") && !r.md.endsWith("The val"),
    "the cut-off repeat is dropped",
  );
  assert.ok(codes(r).includes("repetition"));
  // Without collapsing, all seven copies and the fragment stay.
  const all = parseDocTags(input(r.c), { collapseRepeats: false });
  assert.equal(toMarkdown(all.document).split("The value is 42.").length - 1, 7);
});

test("repetition_closed_then_truncated: repeats that are not at the end are kept", () => {
  const r = tolerant("repetition_closed_then_truncated");
  assert.equal(r.md.split("Total: 42 units.").length - 1, 6);
  assert.equal(r.md.split("|   2020 |       1 |").length - 1, 4);
  // The cut-off last paragraph keeps its partial text (docling empties it).
  assert.ok(r.md.endsWith("|\n\nTotal: 42 un"));
  assert.ok(r.reference.endsWith("|   2020 |       1 |"));
  assert.ok(!codes(r).includes("repetition"));
});

test("unknown_and_misc_tags: unknown and unlisted elements become text", () => {
  const r = tolerant("unknown_and_misc_tags");
  keeps(r, "A paragraph tag.");
  keeps(r, "[1] A reference entry.");
  keeps(r, "Handwritten note.");
  keeps(r, "## Level zero header");
  keeps(r, "Level seven header");
  keeps(r, "Unknown tag content.");
  keeps(r, "Stray text outside any element.");
  assert.ok(!r.md.includes("Running header"), "furniture still left out");
  for (const code of ["heading_level", "unknown_tag", "stray_text"]) {
    assert.ok(codes(r).includes(code), code);
  }
});

test("text_escaping_and_locs: only DocTags tokens are removed from text", () => {
  const r = tolerant("text_escaping_and_locs");
  keeps(r, "Compact comparison if a&lt;b and c&gt;d holds.");
  // Entities are not decoded, as in docling.
  assert.ok(r.md.includes("Entities &amp;amp; &amp;lt;tag&amp;gt;"));
});

test("otsl_spans_and_irregular: an empty cell stays empty, header kinds stay", () => {
  const r = tolerant("otsl_spans_and_irregular");
  assert.ok(r.reference.includes("<nl>") && !r.md.includes("<nl>"));
  const table = r.document.body[0];
  assert.equal(table.kind, "table");
  if (table.kind === "table") {
    assert.ok(table.data.cells.some((c) => c.columnHeader && c.text === "2019"));
    assert.ok(table.data.cells.some((c) => c.rowHeader && c.text === "North"));
    assert.ok(table.data.cells.some((c) => c.rowSection && c.text === "Subtotal"));
  }
  assert.ok(toHtml(r.document).includes('<th colspan="5">Subtotal</th>'));
});

test("code_formula_picture: a picture without locations is kept", () => {
  const r = tolerant("code_formula_picture");
  assert.equal(r.md.split("<!-- image -->").length - 1, 5);
  assert.equal(r.reference.split("<!-- image -->").length - 1, 4);
  assert.ok(r.md.includes("Figure 3. Picture without location tokens.\n\n<!-- image -->"));
});

test("lists: nesting, items after a nested list, orphan and unclosed items", () => {
  const r = tolerant("lists");
  keeps(r, "- Outer bullet\n    - Nested bullet");
  keeps(r, "- • Bullet glyph kept in text");
  keeps(r, "- Orphan list item outside a list");
  keeps(r, "- Unclosed list item\n- Next item");
  assert.ok(codes(r).includes("misplaced_element"));
});

test("constructed_document: nested lists and inline groups survive", () => {
  const r = tolerant("constructed_document");
  keeps(r, "- list item 3\n    1. list item 3.a");
  keeps(r, "        1. list item 3.c.i");
  keeps(r, '    - Here a code snippet: `print("Hello world")` (to be displayed inline)');
  keeps(r, "This is the caption of figure 1.\n\n<!-- image -->");
});

test("inline_and_formatting: inline groups inside items and headings stay inline", () => {
  const r = tolerant("inline_and_formatting");
  keeps(r, "2. Create your feature branch ( `git checkout -b feature/AmazingFeature` )");
  keeps(r, "## Partially formatted heading to\\_escape `not_to_escape` $E=mc^2$ &amp; ampersand");
});

test("rich_table_nested_otsl: rich cells become cell text instead of a garbled grid", () => {
  const r = tolerant("rich_table_nested_otsl");
  keeps(r, "text in italic");
  keeps(r, "| list item 1 list item 2");
  keeps(r, "inner cell 0,0 inner cell 0,1 inner cell 0,2 inner cell 1,0");
  keeps(r, "| Some text in a generic group. More text in the group. | cell 4,1");
});

test("code_and_formula: a caption nested in code is a caption, not code", () => {
  const r = tolerant("code_and_formula");
  keeps(r, "console.log(add(3, 5));\n```\n\nListing 1: Simple JavaScript Program");
  const code = r.document.body.find((b) => b.kind === "code");
  assert.equal(
    code?.kind === "code" ? code.caption?.text : "",
    "Listing 1: Simple JavaScript Program",
  );
});

test("crash_document_index: a table of contents is text (docling-core raises)", () => {
  const r = tolerant("crash_document_index");
  assert.equal(expected(r.c, "md"), undefined);
  assert.ok(r.md.includes("1 Introduction ..... 3\n2 Methods ..... 7"));
  const block = r.document.body[0];
  assert.ok(block.kind === "text" && block.label === "document_index");
});

test("crash_otsl_ragged_ucel: a ragged row span is bounds-checked (docling-core raises)", () => {
  const r = tolerant("crash_otsl_ragged_ucel");
  assert.equal(r.md, "| A   | B   |\n|-----|-----|\n| C   | B   |\n| D   |     |");
  assert.ok(codes(r).includes("irregular_table"));
});
