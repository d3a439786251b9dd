// Regressions found by fuzzing the DocTags reader and exporters: each input
// once crashed the process or threw an untyped error.
import assert from "node:assert/strict";
import {
  latexToMathml,
  parseDocTags,
  tableGrid,
  toDoclingJson,
  toHtml,
  toMarkdown,
} from "../../../plugins/doctags/mod.ts";
import { VlmError } from "../../../src/errors/vlm_error.ts";

/** One row of `n` cells, then `n` one-cell rows: a rows × columns grid of n² from 11·n bytes. */
function raggedTable(n: number): string {
  return `<doctag><otsl>${"<fcel>a".repeat(n)}<nl>${"<fcel>b<nl>".repeat(n)}</otsl></doctag>`;
}

Deno.test("doctags: a ragged 54 kB table is clipped, not padded to a 3000×3000 grid", () => {
  const text = raggedTable(3000);
  for (const compat of [undefined, "docling"] as const) {
    const { document, issues } = parseDocTags(text, { compat });
    const table = document.body[0];
    assert.equal(table.kind, "table");
    if (table.kind !== "table") return;
    assert.equal(table.data.numRows, 3001);
    assert.ok(table.data.numRows * table.data.numCols <= 4 * 12_002, `${compat}: grid bounded`);
    assert.ok(issues.some((i) => i.code === "irregular_table" && /kept the first/.test(i.message)));
    // Every exporter finishes with output proportional to the input.
    const json = toDoclingJson(document);
    assert.ok(json.length < 1000 * text.length);
    JSON.parse(json);
    assert.ok(toHtml(document).length < 100 * text.length);
    assert.ok(toMarkdown(document).length < 100 * text.length);
  }
});

Deno.test("doctags: a table that is not ragged is never clipped", () => {
  const row = "<fcel>x".repeat(40) + "<nl>";
  const { document, issues } = parseDocTags(`<otsl>${row.repeat(400)}</otsl>`);
  const table = document.body[0];
  assert.ok(table.kind === "table" && table.data.numCols === 40 && table.data.numRows === 400);
  assert.equal(issues.filter((i) => i.code === "irregular_table").length, 0);
});

Deno.test("doctags: tableGrid refuses a hand-built grid beyond its cap with a typed error", () => {
  assert.throws(
    () => tableGrid({ numRows: 100_000, numCols: 100_000, cells: [] }),
    (e) => e instanceof VlmError && e.code === "input_invalid" && /grid positions/.test(e.message),
  );
});

Deno.test("doctags: options outside their values are a usage error, not a crash", () => {
  const bad: Record<string, unknown>[] = [
    { collapseRepeats: 0 },
    { collapseRepeats: 1 },
    { collapseRepeats: -3 },
    { collapseRepeats: 2.5 },
    { collapseRepeats: Number.NaN },
    { pageSize: { width: Infinity, height: 10 } },
    { pageSize: { width: 0, height: 10 } },
    { pageSize: [{ width: 10, height: 10 }, null] },
    { pages: "every" },
    { compat: "docling-2" },
  ];
  for (const options of bad) {
    assert.throws(
      () => parseDocTags("<text>a</text><text>a</text><text>a</text>", options),
      (e) => e instanceof VlmError && e.code === "usage" && typeof e.fix === "string",
      JSON.stringify(options),
    );
  }
  // The documented values still work.
  for (const collapseRepeats of [2, 3, false] as const) {
    parseDocTags("<text>a</text>", { collapseRepeats });
  }
});

Deno.test("doctags: thousands of nested braces in a formula fall back to <pre>", () => {
  const latex = "{".repeat(5000) + "x" + "}".repeat(5000);
  assert.equal(latexToMathml(latex, "block"), undefined);
  const html = toHtml(parseDocTags(`<formula>${latex}</formula>`).document);
  assert.match(html, /<pre>\{+x\}+<\/pre>/);
  // Alternating sub- and superscripts nest without nesting groups.
  assert.equal(latexToMathml("x" + "_a^b".repeat(5000), "inline"), undefined);
  // Moderate nesting still converts.
  assert.match(latexToMathml("{".repeat(20) + "x" + "}".repeat(20), "block") ?? "", /<mi>x<\/mi>/);
});

Deno.test("doctags: docling JSON stays JSON with a location of 400 digits", () => {
  const text = `<doctag><text><loc_${"9".repeat(400)}><loc_1><loc_2><loc_3>hi</text></doctag>`;
  for (const compat of [undefined, "docling"] as const) {
    const json = toDoclingJson(
      parseDocTags(text, { compat, pageSize: { width: 1e9, height: 1e9 } }).document,
    );
    assert.doesNotMatch(json, /Infinity|NaN/);
    const box = JSON.parse(json).texts[0].prov[0].bbox;
    assert.ok(Number.isFinite(box.l), `${compat}: ${box.l}`);
  }
  // A hand-built document with Infinity is refused rather than written as invalid JSON.
  assert.throws(
    () =>
      toDoclingJson({ name: "d", pages: [{ pageNo: 1, width: Infinity, height: 1 }], body: [] }),
    (e) => e instanceof VlmError && e.code === "input_invalid",
  );
});
