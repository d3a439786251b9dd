/**
 * docling-compatible mode against docling-core 2.87.1's own outputs: every
 * non-crashing case must reproduce the Markdown, HTML and DoclingDocument
 * JSON byte for byte; on the two inputs where docling-core raises, this mode
 * must still return a document and report the reference error.
 */
import assert from "node:assert/strict";
import { parseDocTags, toDoclingJson, toHtml, toMarkdown } from "../../../plugins/doctags/mod.ts";
import { CASES, expected, input, pagesMode } from "./_conformance.ts";
import { assertValidDocument } from "./schema.ts";

for (const c of CASES) {
  Deno.test(`docling compat: ${c.id} reproduces docling-core`, () => {
    const { document, issues } = parseDocTags(input(c), { compat: "docling", pages: pagesMode(c) });
    assertValidDocument(document, false);
    const error = expected(c, "error");
    if (error !== undefined) {
      // docling-core raises here; compat mode reports it and carries on.
      assert.ok(issues.some((i) => i.code === "reference_error"), "reference_error reported");
      const kind = error.includes("IndexError") ? "IndexError" : "ValidationError";
      assert.ok(issues.some((i) => i.message.includes(kind)), `message names ${kind}`);
      toMarkdown(document);
      toHtml(document);
      return;
    }
    assert.equal(toMarkdown(document), expected(c, "md"), "Markdown");
    const paged = expected(c, "paged.md");
    if (paged !== undefined) {
      assert.equal(
        toMarkdown(document, { pageBreakPlaceholder: "<!-- page break -->" }),
        paged,
        "paged Markdown",
      );
    }
    assert.equal(toHtml(document), expected(c, "html"), "HTML");
    const json = expected(c, "json");
    if (json !== undefined) assert.equal(toDoclingJson(document), json, "DoclingDocument JSON");
  });
}

Deno.test({
  name: "docling compat: the conformance vectors are present",
  fn() {
    assert.equal(CASES.length, 28);
    const crashes = CASES.filter((c) => expected(c, "error") !== undefined);
    assert.deepEqual(crashes.map((c) => c.id).sort(), [
      "crash_document_index",
      "crash_otsl_ragged_ucel",
    ]);
  },
});
