import assert from "node:assert/strict";
import * as document from "../../src/document/mod.ts";

Deno.test("@vlmkit/vlmkit/document: the public surface is the curated list", () => {
  assert.deepEqual(Object.keys(document).sort(), [
    "DEFAULT_MAX_PAGES",
    "DEFAULT_PAGE_TOKEN_CAP",
    "DEFAULT_PDF_SCALE",
    "convertDocument",
    "documentsRoute",
    "encodePng",
    "formatPageRanges",
    "isPdf",
    "openPdf",
    "parsePageRanges",
  ]);
});

Deno.test("encodePng round-trips through the PNG decoder", () => {
  const image = document.encodePng({
    width: 3,
    height: 2,
    data: Uint8Array.from({ length: 18 }, (_, i) => i * 14),
  });
  return import("../../src/image/decode.ts").then(({ decodeImage }) => {
    const decoded = decodeImage(image);
    assert.deepEqual([decoded.width, decoded.height], [3, 2]);
    assert.deepEqual([...decoded.data], Array.from({ length: 18 }, (_, i) => i * 14));
  });
});
