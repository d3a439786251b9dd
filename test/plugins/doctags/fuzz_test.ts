/**
 * Property test: 10,000 random and mutated DocTags strings. Whatever the
 * input, parsing never throws and yields a valid document (zod schema plus
 * structural checks) in both modes, and every exporter and the loop guard
 * accept the result.
 *
 * Inputs: the conformance inputs truncated at random points, with random tags
 * deleted, duplicated or inserted, with a stretch repeated (a loop), and
 * random soup made of DocTags tokens and awkward text.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  assembleDocument,
  loopGuard,
  parseDocTags,
  toDoclingJson,
  toHtml,
  toJson,
  toMarkdown,
} from "../../../plugins/doctags/mod.ts";
import { CASES, input } from "./_conformance.ts";
import { createRgbImage } from "../../../src/image/raster.ts";
import { assertValidDocument } from "./schema.ts";

const RUNS = 10_000;
// Windows of at most this many characters keep each run around a millisecond.
const WINDOW = 1200;

const SOURCES: string[] = CASES.map(input);

const TAGS = [
  "doctag",
  "title",
  "text",
  "paragraph",
  "caption",
  "footnote",
  "page_header",
  "page_footer",
  "formula",
  "code",
  "picture",
  "chart",
  "otsl",
  "inline",
  "list_item",
  "ordered_list",
  "unordered_list",
  "key_value_region",
  "key_1",
  "value_2",
  "document_index",
  "checkbox_selected",
  "section_header_level_0",
  "section_header_level_1",
  "section_header_level_3",
  "section_header_level_9",
  "smiles",
  "foo_bar",
];
const SINGLE_TOKENS = [
  "<fcel>",
  "<ecel>",
  "<lcel>",
  "<ucel>",
  "<xcel>",
  "<nl>",
  "<ched>",
  "<rhed>",
  "<srow>",
  "<bar_chart>",
  "<logo>",
  "<other>",
  "<_Python_>",
  "<_C++_>",
  "<_Klingon_>",
  "<link_1>",
  "<link_99>",
  "<page_break>",
  "<end_of_utterance>",
  "<|end_of_text|>",
  "Assistant: ",
  "<loc_7/>",
  "</>",
  "<>",
  "<<",
  ">>",
];
const TEXTS = [
  "a",
  "Hello world",
  " ",
  "\n",
  "\r\n",
  "\t",
  "&amp;",
  "&",
  "<",
  ">",
  "a<b and c>d",
  "P < 0.05",
  "|",
  "_x_",
  "*",
  "#",
  "`",
  "$",
  "\\frac{a}{b}",
  "x^{2}",
  "1,000",
  "3.14",
  "-2",
  "True",
  "nan",
  "١٢٣",
  "日本語",
  "مرحبا",
  "😀",
  "\u0000",
  "\u001b[31m",
  "\u200b",
  "\u2028",
  "\ufeff",
];

const tag = fc.constantFrom(...TAGS);
const token = fc.oneof(
  { weight: 3, arbitrary: tag.map((t) => `<${t}>`) },
  { weight: 3, arbitrary: tag.map((t) => `</${t}>`) },
  { weight: 2, arbitrary: fc.constantFrom(...SINGLE_TOKENS) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 600 }).map((n) => `<loc_${n}>`) },
  { weight: 3, arbitrary: fc.constantFrom(...TEXTS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const soup = fc.array(token, { maxLength: 120 }).map((parts) => parts.join(""));

const source = fc.record({
  index: fc.nat({ max: SOURCES.length - 1 }),
  start: fc.nat(),
}).map(({ index, start }) => {
  const text = SOURCES[index];
  if (text.length <= WINDOW) return text;
  const from = start % (text.length - WINDOW);
  return text.slice(from, from + WINDOW);
});

const truncated = fc.tuple(source, fc.nat()).map(([text, cut]) =>
  text.slice(0, cut % (text.length + 1))
);

/** Applies edits to the tags of `text`: delete, duplicate, or insert a token before one. */
const edited = fc.tuple(
  source,
  fc.array(fc.tuple(fc.constantFrom("delete", "duplicate", "insert"), fc.nat(), token), {
    minLength: 1,
    maxLength: 8,
  }),
).map(([text, edits]) => {
  let out = text;
  for (const [op, pick, extra] of edits) {
    const tags = [...out.matchAll(/<[^<>]*>/g)];
    if (tags.length === 0) {
      out += extra;
      continue;
    }
    const m = tags[pick % tags.length];
    const at = m.index;
    const end = at + m[0].length;
    if (op === "delete") out = out.slice(0, at) + out.slice(end);
    else if (op === "duplicate") out = out.slice(0, end) + m[0] + out.slice(end);
    else out = out.slice(0, at) + extra + out.slice(at);
  }
  return out;
});

/** Repeats a stretch of the text many times, then cuts, like a generation loop. */
const looped = fc.tuple(
  source,
  fc.nat(),
  fc.integer({ min: 1, max: 200 }),
  fc.integer({ min: 2, max: 30 }),
  fc.nat(),
)
  .map(([text, start, length, copies, cut]) => {
    const from = start % (text.length + 1);
    const unit = text.slice(from, from + length);
    const out = text.slice(0, from) + unit.repeat(copies);
    return out.slice(0, out.length - (cut % (unit.length + 1)));
  });

const doctags = fc.oneof(
  { weight: 3, arbitrary: truncated },
  { weight: 3, arbitrary: edited },
  { weight: 2, arbitrary: looped },
  { weight: 2, arbitrary: soup },
);

let runs = 0;

function check(text: string): void {
  runs++;
  const tolerant = parseDocTags(text);
  assertValidDocument(tolerant.document);
  assert.ok(Array.isArray(tolerant.issues));
  assert.equal(
    typeof toMarkdown(tolerant.document, { pageBreakPlaceholder: "<!-- page break -->" }),
    "string",
  );
  assert.ok(toHtml(tolerant.document).endsWith("</html>"));

  const compat = parseDocTags(text, { compat: "docling" });
  assertValidDocument(compat.document, false);
  toMarkdown(compat.document);
  // The docling JSON export is the costliest; every tenth run is enough.
  if (runs % 10 === 0) {
    JSON.parse(toJson(tolerant.document));
    JSON.parse(toDoclingJson(tolerant.document));
    JSON.parse(toDoclingJson(compat.document));
  }
  assert.equal(typeof loopGuard(text).looping, "boolean");
}

Deno.test(`fuzz: ${RUNS} random and mutated DocTags strings never throw and give valid documents`, () => {
  fc.assert(fc.property(doctags, check), { numRuns: RUNS });
  assert.equal(runs, RUNS);
});

Deno.test("fuzz: page sizes scale boxes and never break parsing", () => {
  fc.assert(
    fc.property(
      soup,
      fc.record({
        width: fc.integer({ min: 1, max: 5000 }),
        height: fc.integer({ min: 1, max: 5000 }),
      }),
      (text, size) => {
        for (const compat of [undefined, "docling" as const]) {
          const { document } = parseDocTags(text, { pageSize: size, compat });
          assertValidDocument(document, compat === undefined);
          for (const page of document.pages) {
            assert.deepEqual([page.width, page.height], [size.width, size.height]);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("fuzz: multi-page assembly of random pages never throws; crops stay in their page image", () => {
  const page = fc.record({
    doctags,
    gap: fc.integer({ min: 1, max: 3 }),
    size: fc.record({
      width: fc.double({ min: 0.5, max: 3000, noNaN: true }),
      height: fc.double({ min: 0.5, max: 3000, noNaN: true }),
    }),
    image: fc.option(
      fc.record({
        width: fc.integer({ min: 1, max: 64 }),
        height: fc.integer({ min: 1, max: 64 }),
      }),
    ),
  });
  fc.assert(
    fc.property(
      fc.array(page, { minLength: 1, maxLength: 4 }),
      fc.constantFrom("docling" as const, "tolerant" as const),
      (specs, reader) => {
        let pageNo = 0;
        const pages = specs.map((p) => ({
          pageNo: pageNo += p.gap,
          doctags: p.doctags,
          size: p.size,
          image: p.image ? createRgbImage(p.image.width, p.image.height) : undefined,
        }));
        const result = assembleDocument(pages, { reader });
        assertValidDocument(result.document, reader === "tolerant");
        const numbers = new Set(pages.map((p) => p.pageNo));
        for (const issue of result.issues) assert.ok(numbers.has(issue.page), "issue page given");
        for (const picture of result.pictures) {
          const image = pages.find((p) => p.pageNo === picture.pageNo)!.image!;
          assert.ok(picture.size.width <= image.width && picture.size.height <= image.height);
          assert.equal(picture.png[1], 0x50, "a PNG file");
        }
        assert.equal(new Set(result.pictures.map((p) => p.path)).size, result.pictures.length);
        assert.equal(typeof result.markdown, "string");
        assert.ok(result.html.endsWith("</html>"));
        assert.deepEqual(
          Object.keys((result.json as { pages: object }).pages),
          [...numbers].map(String),
        );
      },
    ),
    { numRuns: 300 },
  );
});
