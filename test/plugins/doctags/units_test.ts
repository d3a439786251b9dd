/** Unit tests: parsing options, exporter details, the MathML subset, table layout. */
import assert from "node:assert/strict";
import {
  latexToMathml,
  parseDocTags,
  splitPages,
  tableGrid,
  toHtml,
  toJson,
  toMarkdown,
} from "../../../plugins/doctags/mod.ts";
import type { DocTagsDocument } from "../../../plugins/doctags/mod.ts";
import { lex } from "../../../plugins/doctags/lexer.ts";
import { isNumericColumn, pipeTable } from "../../../plugins/doctags/pipe_table.ts";
import { pyCapitalize, pyIsInt, pyLen, pyStrip } from "../../../plugins/doctags/python.ts";
import { assertValidDocument } from "./schema.ts";

const body = (html: string) =>
  html.slice(html.indexOf("<div class='page'>\n") + 19, html.lastIndexOf("\n</div>"));

Deno.test("parse: raw model output (prefix, envelope, stop tokens) reads cleanly", () => {
  const raw =
    "Assistant: <doctag><title><loc_10><loc_20><loc_490><loc_40>Hello</title>\n</doctag><end_of_utterance>";
  for (const compat of [undefined, "docling" as const]) {
    const { document, issues } = parseDocTags(raw, { compat });
    assert.equal(toMarkdown(document), "# Hello");
    assert.deepEqual(issues, []);
  }
});

Deno.test("parse: locations scale to the page size; default 1×1 keeps fractions", () => {
  const text = "<text><loc_100><loc_50><loc_400><loc_500>x</text>";
  assert.deepEqual(parseDocTags(text).document.body[0].bbox, { l: 0.2, t: 0.1, r: 0.8, b: 1 });
  const scaled =
    parseDocTags(text, { pageSize: { width: 1000, height: 2000 } }).document.body[0].bbox;
  assert.deepEqual(scaled, { l: 200, t: 200, r: 800, b: 2000 });
  // More than four locations: the first four count; fewer than four: no box.
  const eight = parseDocTags(
    "<text><loc_1><loc_2><loc_3><loc_4><loc_9><loc_9><loc_9><loc_9>x</text>",
  );
  assert.deepEqual(eight.document.body[0].bbox, { l: 0.002, t: 0.004, r: 0.006, b: 0.008 });
  assert.equal(parseDocTags("<text><loc_1><loc_2>x</text>").document.body[0].bbox, undefined);
  // Tolerant mode clamps to the grid; docling-compatible mode divides whatever it gets.
  assert.equal(
    parseDocTags("<text><loc_0><loc_0><loc_999><loc_500>x</text>").document.body[0].bbox?.r,
    1,
  );
  const compat = parseDocTags("<text><loc_0><loc_0><loc_999><loc_500>x</text>", {
    compat: "docling",
  });
  assert.equal(compat.document.body[0].bbox?.r, 1.998);
});

Deno.test("parse: docling-compatible mode keeps list-item boxes only when the page size is known", () => {
  const text =
    "<unordered_list><list_item><loc_1><loc_2><loc_3><loc_4>a</list_item></unordered_list>";
  const itemBox = (pageSize?: { width: number; height: number }) => {
    const list = parseDocTags(text, { compat: "docling", pageSize }).document.body[0];
    return list.kind === "list" ? list.items[0].bbox : "not a list";
  };
  assert.equal(itemBox(), undefined);
  assert.deepEqual(itemBox({ width: 500, height: 500 }), { l: 1, t: 2, r: 3, b: 4 });
  const tolerant = parseDocTags(text).document.body[0];
  assert.ok(tolerant.kind === "list" && tolerant.items[0].bbox !== undefined);
});

Deno.test("parse: pages split on <page_break>, or come as an array", () => {
  assert.deepEqual(splitPages("<doctag>a<page_break> b </doctag>"), ["a", "b"]);
  assert.deepEqual(splitPages("a<page_break>b", "single"), ["a<page_break>b"]);
  assert.deepEqual(splitPages("no break"), ["no break"]);
  const doc =
    parseDocTags(["<text>one</text>", "<text>two</text>"], { pageSize: [{ width: 2, height: 3 }] })
      .document;
  assert.deepEqual(doc.pages, [{ pageNo: 1, width: 2, height: 3 }, {
    pageNo: 2,
    width: 1,
    height: 1,
  }]);
  assert.deepEqual(doc.body.map((b) => b.page), [1, 2]);
  const markdown = toMarkdown(
    parseDocTags(
      "<text><loc_1><loc_1><loc_2><loc_2>one</text><page_break><text><loc_1><loc_1><loc_2><loc_2>two</text>",
    )
      .document,
    { pageBreakPlaceholder: "---" },
  );
  assert.equal(markdown, "one\n\n---\n\ntwo");
});

Deno.test("parse: code language tokens, nested captions and unknown languages", () => {
  const { document } = parseDocTags(
    "<code><_C++_>int main() {}\n<caption>Listing 1</caption></code><code><_Klingon_>x</code><code>y</code>",
  );
  const [a, b, c] = document.body;
  assert.ok(
    a.kind === "code" && a.language === "C++" && a.text === "int main() {}" &&
      a.caption?.text === "Listing 1",
  );
  assert.ok(b.kind === "code" && b.language === "unknown" && b.languageToken === "Klingon");
  assert.ok(c.kind === "code" && c.language === "unknown" && c.languageToken === undefined);
});

Deno.test("parse: tables keep spans and header kinds; bare OTSL becomes a table", () => {
  const { document, issues } = parseDocTags("<fcel>a<lcel><nl><ucel><xcel><nl>");
  assert.equal(issues[0].code, "misplaced_element");
  const table = document.body[0];
  assert.ok(table.kind === "table");
  if (table.kind !== "table") return;
  assert.deepEqual(table.data.cells.map((c) => [c.text, c.rowSpan, c.colSpan]), [["a", 2, 2]]);
  const grid = tableGrid(table.data);
  assert.equal(grid[1][1], grid[0][0]);
});

Deno.test("parse: nested inline groups, headings with inline content", () => {
  const { document } = parseDocTags(
    "<section_header_level_2><inline><text>Hi</text><code><_unknown_>x_y</code></inline></section_header_level_2>",
  );
  assert.equal(toMarkdown(document), "### Hi `x_y`");
  assert.equal(
    body(toHtml(document)),
    "<h3><span class='inline-group'>Hi <code>x_y</code></span></h3>",
  );
});

Deno.test("markdown: furniture on request, escaping switches", () => {
  const { document } = parseDocTags("<page_header>Head</page_header><text>a_b <c></text>");
  assert.equal(toMarkdown(document), "a\\_b &lt;c&gt;");
  assert.equal(toMarkdown(document, { layers: ["body", "furniture"] }), "Head\n\na\\_b &lt;c&gt;");
  assert.equal(toMarkdown(document, { escapeHtml: false, escapeUnderscores: false }), "a_b <c>");
  assert.equal(toMarkdown(document, { imagePlaceholder: "[img]" }), "a\\_b &lt;c&gt;");
});

Deno.test("markdown: pictures, charts and key-value regions", () => {
  const { document } = parseDocTags(
    "<chart><loc_1><loc_2><loc_3><loc_4><pie_chart><fcel>x<fcel>share<nl><fcel>a<fcel>0.5<nl>" +
      "<caption>Fig. 1</caption></chart><key_value_region><key_1>k<link_2></key_1><value_2>v</value_2></key_value_region>",
  );
  assert.equal(
    toMarkdown(document, { imagePlaceholder: "[img]" }),
    "Fig. 1\n\n[img]\n\nPie chart\n\n| x   |   share |\n|-----|---------|\n| a   |     0.5 |\n\n<!-- missing-key-value-item -->",
  );
  assert.ok(toHtml(document).includes("<li><strong>k</strong>: v</li>"));
});

Deno.test("html: right-to-left cells, escaping, formulas off", () => {
  const { document } = parseDocTags(
    "<otsl><fcel>مرحبا<fcel>\"q\" & 'a'<nl></otsl><formula>x^2</formula><formula>\\unknowncommand</formula>",
  );
  const html = body(toHtml(document));
  assert.ok(html.includes('<td dir="rtl">مرحبا</td><td>&quot;q&quot; &amp; &#x27;a&#x27;</td>'));
  assert.ok(html.includes("<msup><mi>x</mi><mn>2</mn></msup>"));
  assert.ok(html.includes("<pre>\\unknowncommand</pre>"), "unsupported LaTeX falls back to <pre>");
  assert.ok(
    body(toHtml(document, { formulaToMathml: false })).includes(
      '<div class="formula-not-decoded">',
    ),
  );
});

Deno.test("mathml: the supported subset matches latex2mathml's output", () => {
  assert.equal(
    latexToMathml("E=mc^2", "block"),
    '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mrow><mi>E</mi><mo>&#x0003D;</mo>' +
      '<mi>m</mi><msup><mi>c</mi><mn>2</mn></msup></mrow><annotation encoding="TeX">E=mc^2</annotation></math>',
  );
  assert.equal(
    latexToMathml("\\sqrt{x_1} \\leq \\left( \\alpha \\right)", "inline"),
    '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><msqrt><mrow><msub><mi>x</mi>' +
      '<mn>1</mn></msub></mrow></msqrt><mo>&#x02264;</mo><mrow><mo stretchy="true" fence="true" form="prefix">' +
      '&#x00028;</mo><mi>&#x003B1;</mi><mo stretchy="true" fence="true" form="postfix">&#x00029;</mo></mrow>' +
      '</mrow><annotation encoding="TeX">\\sqrt{x_1} \\leq \\left( \\alpha \\right)</annotation></math>',
  );
  assert.equal(
    latexToMathml("\\text{if } a_i^2 \\quad \\sin x", "inline")?.replace(/<annotation.*$/, ""),
    '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><mtext>if&#x000A0;</mtext>' +
      '<msubsup><mi>a</mi><mi>i</mi><mn>2</mn></msubsup><mspace width="1em" /><mi>sin</mi><mi>x</mi></mrow>',
  );
  for (
    const unsupported of [
      "\\begin{matrix}a\\end{matrix}",
      "\\sum_{i}",
      "x^",
      "{",
      "\\mathbf{x}",
      "a'",
    ]
  ) {
    assert.equal(latexToMathml(unsupported, "block"), undefined, unsupported);
  }
});

Deno.test("pipe table: tabulate's numeric columns and padding", () => {
  assert.ok(isNumericColumn(["1", "", "2.5", "1,000", "-3e4", "nan", "inf", "١٢"]));
  assert.ok(!isNumericColumn(["1", "x"]));
  assert.ok(!isNumericColumn(["", ""]), "all empty stays text");
  assert.ok(!isNumericColumn(["True", "False"]));
  assert.ok(!isNumericColumn(["1e400"]), "overflow to infinity is not a number");
  assert.ok(!isNumericColumn(["+inf"]));
  assert.equal(
    pipeTable([["a", "b"], ["1", "xyz"]]),
    "|   a | b   |\n|-----|-----|\n|   1 | xyz |",
  );
  assert.equal(pipeTable([["head only"]]), "| head only   |\n|-------------|");
  assert.equal(
    pipeTable([["日本", "x"], ["😀", "y"]]),
    // Widths count code points, as tabulate does without wcwidth.
    "| 日本   | x   |\n|------|-----|\n| 😀    | y   |",
  );
});

Deno.test("python helpers: strip, len, int, capitalize", () => {
  assert.equal(pyStrip("\u001f x \u0085"), "x");
  assert.equal(pyStrip("\ufeffx"), "\ufeffx", "U+FEFF is not whitespace in Python");
  assert.equal(pyLen("a😀"), 2);
  assert.ok(pyIsInt(" 1_000 ") && pyIsInt("٣") && !pyIsInt("1__0") && !pyIsInt("0x1"));
  assert.equal(pyCapitalize("bAR chart"), "Bar chart");
});

Deno.test("lexer: only DocTags-shaped tags are tokens", () => {
  const tokens = lex("a<b and c>d<text><loc_12><_C#_></text><B>x</B><loc_3/>");
  assert.deepEqual(tokens.map((t) => t.type === "text" ? `"${t.value}"` : t.type), [
    '"a<b and c>d"',
    "open",
    "loc",
    "lang",
    "close",
    '"<B>x</B>"',
    "open",
  ]);
});

Deno.test("json: the own model round-trips", () => {
  const { document } = parseDocTags("<title>T</title><otsl><ched>a<nl><fcel>1<nl></otsl>");
  const back = JSON.parse(toJson(document)) as DocTagsDocument;
  assert.deepEqual(back, document);
  assertValidDocument(back);
});

Deno.test("schema: invalid documents are rejected", () => {
  const { document } = parseDocTags("<text>x</text>");
  assert.throws(() => assertValidDocument({ ...document, body: [{ kind: "text" } as never] }));
  assert.throws(() =>
    assertValidDocument({ ...document, body: [{ ...document.body[0], page: 2 }] })
  );
});

Deno.test("parse: pathological nesting and location values do not break either mode", () => {
  for (
    const text of [
      "<ordered_list><list_item>".repeat(3000),
      "<text><inline>".repeat(3000),
      "<otsl><fcel>".repeat(3000),
    ]
  ) {
    const { document, issues } = parseDocTags(text);
    assertValidDocument(document);
    assert.ok(issues.some((i) => i.message.includes("nested more than")));
    toMarkdown(document);
    toHtml(document);
    assertValidDocument(parseDocTags(text, { compat: "docling" }).document, false);
  }
  const huge = `<text><loc_${"9".repeat(400)}><loc_1><loc_1><loc_1>x</text>`;
  assert.equal(parseDocTags(huge).document.body[0].bbox?.l, 1, "tolerant mode clamps to the grid");
  assert.equal(
    parseDocTags(huge, { compat: "docling" }).document.body[0].bbox?.l,
    Number.MAX_VALUE,
    "as docling, but clamped to a finite number so that the JSON export stays JSON",
  );
});

Deno.test("parse: chart data wrapped in its own <otsl>", () => {
  const { document, issues } = parseDocTags(
    "<chart><loc_1><loc_2><loc_3><loc_4><bar_chart><otsl><ched>k<ched>v<nl><fcel>a<fcel>1<nl></otsl></chart>",
  );
  assert.deepEqual(issues, []);
  const chart = document.body[0];
  assert.ok(
    chart.kind === "picture" && chart.chart?.data.numRows === 2 &&
      chart.classification === "bar_chart",
  );
});
