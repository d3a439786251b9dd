/**
 * `assembleDocument` against docling-core: per-page DocTags assembled into one
 * multi-page DoclingDocument, its Markdown and HTML, and picture crops.
 *
 * What is asserted, and why it is docling's behaviour:
 * - The conformance cases recorded with docling-core's multi-page reader
 *   (`from_multipage_doctags_and_images(text, None)`, which only strips the
 *   envelope and splits on `<page_break>` before `from_doctags_and_image_pairs`)
 *   are given as separate pages of size 1×1 without images, as that reader
 *   hands them to `load_from_doctags`: the outputs must equal docling-core's
 *   files byte for byte (Markdown, paged Markdown, HTML, JSON).
 * - Single-page vectors (any subset, any order) given as pages 1..n:
 *   `load_from_doctags` loops over the pages adding items to one document,
 *   so docling's multi-page JSON is the single-page JSONs concatenated
 *   (array references shifted by the items before, `page_no` set to the
 *   page, one `pages` entry each); its Markdown
 *   joins every page's blocks with one blank line (no page marker by default)
 *   and its HTML puts every page's elements in the one `<div class='page'>`.
 *   Those expectations are built from docling-core's single-page files.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { decode as decodePng } from "fast-png";
import {
  assembleDocument,
  type DocumentPage,
  joinPageDocTags,
  splitPages,
} from "../../../plugins/doctags/mod.ts";
import { pageDocTagsBody } from "../../../plugins/doctags/page_doctags.ts";
import { pictureCropRect } from "../../../plugins/doctags/picture_crop.ts";
import { createRgbImage, cropRgb, type RgbImage } from "../../../src/image/raster.ts";
import { decodeImage } from "../../../src/image/decode.ts";
import { VlmError } from "../../../src/errors/vlm_error.ts";
import { CASES, type ConformanceCase, expected, input } from "./_conformance.ts";

const UNIT = { width: 1, height: 1 };

function unitPages(texts: readonly string[]): DocumentPage[] {
  return texts.map((doctags, i) => ({ pageNo: i + 1, doctags, size: UNIT }));
}

for (const c of CASES.filter((c) => c.mode === "multipage")) {
  Deno.test(`assembleDocument: ${c.id} split into its pages equals docling-core`, () => {
    const pages = splitPages(input(c), "split");
    if (c.id === "docling_paper_2206.01062") assert.equal(pages.length, 9);
    const result = assembleDocument(unitPages(pages));
    assert.equal(result.markdown, expected(c, "md"), "Markdown");
    assert.equal(result.html, expected(c, "html"), "HTML");
    const json = expected(c, "json");
    if (json !== undefined) {
      assert.equal(result.jsonText, json, "DoclingDocument JSON");
      assert.deepEqual(result.json, JSON.parse(json));
      assert.equal(Object.keys((result.json as { pages: object }).pages).length, pages.length);
    }
    const paged = expected(c, "paged.md");
    if (paged !== undefined) {
      const withBreaks = assembleDocument(unitPages(pages), {
        pageBreakPlaceholder: "<!-- page break -->",
      });
      assert.equal(withBreaks.markdown, paged, "Markdown with page_break_placeholder");
    }
    assert.deepEqual(result.pictures, [], "no page images, no crops");
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const ARRAYS = ["texts", "groups", "tables", "pictures", "key_value_items"] as const;

/** docling's multi-page JSON from single-page JSONs: arrays concatenated, refs shifted. */
function mergeDoclingJson(docs: { [key: string]: Json }[]): { [key: string]: Json } {
  const out = structuredClone(docs[0]);
  for (const name of ARRAYS) out[name] = [];
  (out.body as { children: Json[] }).children = [];
  out.pages = {};
  docs.forEach((doc, index) => {
    const pageNo = index + 1;
    const offsets = Object.fromEntries(
      ARRAYS.map((name) => [name, (out[name] as Json[]).length]),
    );
    const shift = (v: Json): Json => {
      if (typeof v === "string") {
        const m = /^#\/(texts|groups|tables|pictures|key_value_items)\/(\d+)$/.exec(v);
        return m ? `#/${m[1]}/${Number(m[2]) + offsets[m[1]]}` : v;
      }
      if (Array.isArray(v)) return v.map(shift);
      if (v && typeof v === "object") {
        return Object.fromEntries(
          Object.entries(v).map(([k, x]) => [k, k === "page_no" ? pageNo : shift(x)]),
        );
      }
      return v;
    };
    for (const name of ARRAYS) (out[name] as Json[]).push(...(shift(doc[name]) as Json[]));
    (out.body as { children: Json[] }).children.push(
      ...(shift((doc.body as { children: Json[] }).children) as Json[]),
    );
    (out.pages as Record<string, Json>)[String(pageNo)] = shift(
      (doc.pages as Record<string, Json>)["1"],
    );
  });
  return out;
}

/** The elements inside an `export_to_html()` page's `<div class='page'>`. */
function htmlBody(html: string): string {
  return html.slice(html.indexOf("<div class='page'>\n") + 19, html.lastIndexOf("\n</div>"));
}

Deno.test("property: any single-page vectors, in any order, as pages 1..n give docling's merged outputs", () => {
  const singles = CASES.filter((c) => c.mode === "single" && !c.id.startsWith("crash_"));
  fc.assert(
    fc.property(fc.shuffledSubarray(singles, { minLength: 1 }), (cases: ConformanceCase[]) => {
      const ids = cases.map((c) => c.id).join(", ");
      const result = assembleDocument(unitPages(cases.map(input)));

      const md = cases.map((c) => expected(c, "md")!).filter((m) => m !== "").join("\n\n");
      assert.equal(
        result.markdown,
        md,
        `Markdown of ${ids}: the pages' Markdown, blank line between`,
      );

      const first = expected(cases[0], "html")!;
      const bodies = cases.map((c) => htmlBody(expected(c, "html")!)).filter((b) => b !== "");
      assert.equal(
        result.html,
        first.replace(htmlBody(first), bodies.join("\n")),
        `HTML of ${ids}: every page's elements in one page div`,
      );

      const merged = mergeDoclingJson(cases.map((c) => JSON.parse(expected(c, "json")!)));
      assert.deepEqual(result.json, merged, `JSON of ${ids}: single-page documents concatenated`);
      assert.deepEqual(Object.keys(result.json as object), Object.keys(merged), "key order");
      const pages = (result.json as { pages: Record<string, { page_no: number }> }).pages;
      assert.deepEqual(Object.keys(pages), cases.map((_, i) => String(i + 1)));
    }),
    { numRuns: 60 },
  );
});

Deno.test("assembleDocument: page numbers and sizes are the caller's, boxes scaled top-left", () => {
  const pages: DocumentPage[] = [
    {
      pageNo: 3,
      doctags: "<doctag><title><loc_50><loc_25><loc_450><loc_50>Report</title></doctag>",
      size: { width: 612, height: 792 },
    },
    {
      pageNo: 7,
      doctags: "Assistant:<doctag><text><loc_0><loc_250><loc_500><loc_500>Body</text>" +
        "</doctag><end_of_utterance>",
      size: { width: 595, height: 842 },
    },
  ];
  const result = assembleDocument(pages, { name: "report" });
  const json = result.json as {
    name: string;
    texts: { prov: { page_no: number; bbox: Record<string, number | string> }[] }[];
    pages: Record<string, { page_no: number; size: { width: number; height: number } }>;
  };
  assert.equal(json.name, "report");
  assert.deepEqual(json.pages, {
    "3": { size: { width: 612, height: 792 }, page_no: 3 },
    "7": { size: { width: 595, height: 842 }, page_no: 7 },
  });
  assert.equal(json.texts[0].prov[0].page_no, 3);
  const title = json.texts[0].prov[0].bbox;
  assert.equal(title.coord_origin, "TOPLEFT");
  assert.ok(
    Math.abs((title.l as number) - 61.2) < 1e-9 && Math.abs((title.b as number) - 79.2) < 1e-9,
  );
  assert.deepEqual(json.texts[1].prov[0], {
    page_no: 7,
    bbox: { l: 0, t: 421, r: 595, b: 842, coord_origin: "TOPLEFT" },
    charspan: [0, 4],
  });
  assert.match(result.jsonText, /"width": 612\.0/, "floats written as Python writes them");
  assert.equal(result.markdown, "# Report\n\nBody");
  assert.equal(
    result.doctags,
    "<doctag><title><loc_50><loc_25><loc_450><loc_50>Report</title><page_break>" +
      "<text><loc_0><loc_250><loc_500><loc_500>Body</text></doctag>",
  );
  assert.equal(
    assembleDocument(pages, { pageBreakPlaceholder: "<!-- page break -->" }).markdown,
    "# Report\n\n<!-- page break -->\n\nBody",
  );
});

/** A raster whose every pixel encodes its position, so a crop shows where it came from. */
function positional(width: number, height: number): RgbImage {
  const image = createRgbImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      image.data[i] = x & 255;
      image.data[i + 1] = y & 255;
      image.data[i + 2] = ((x >> 8) << 4) | (y >> 8);
    }
  }
  return image;
}

function assertCropOf(png: Uint8Array, image: RgbImage, left: number, top: number): void {
  const decoded = decodePng(png);
  assert.equal(decoded.channels, 3);
  for (const [x, y] of [[0, 0], [decoded.width - 1, decoded.height - 1]]) {
    const i = (y * decoded.width + x) * 3;
    const j = ((top + y) * image.width + left + x) * 3;
    assert.deepEqual(
      [...decoded.data.slice(i, i + 3)],
      [...image.data.slice(j, j + 3)],
      `crop pixel (${x}, ${y})`,
    );
  }
}

Deno.test("assembleDocument: pictures are cropped from the page image, written as PNG, referenced", () => {
  // A PDF page of 612×792 pt rendered at 2x (docling's VLM pipeline scale).
  const image = positional(1224, 1584);
  const pages: DocumentPage[] = [
    {
      pageNo: 1,
      doctags: "<doctag><text><loc_50><loc_20><loc_450><loc_40>Intro</text></doctag>",
      size: { width: 612, height: 792 },
      image: positional(1224, 1584),
    },
    {
      pageNo: 2,
      doctags: "<doctag><picture><loc_50><loc_100><loc_250><loc_300><bar_chart>" +
        "<caption><loc_50><loc_305><loc_250><loc_320>Figure 1: Sales</caption></picture>" +
        "<picture><loc_300><loc_0><loc_500><loc_500></picture>" +
        "<picture><loc_300><loc_100><loc_300><loc_200></picture></doctag>",
      size: { width: 612, height: 792 },
      image,
    },
  ];
  const result = assembleDocument(pages);
  // Edges are int(loc / 500 × image side), as docling-core crops.
  assert.deepEqual(result.pictures.map((p) => [p.path, p.pageNo, p.size.width, p.size.height]), [
    ["pictures/page-002-picture-01.png", 2, 612 - 122, 950 - 316],
    ["pictures/page-002-picture-02.png", 2, 1224 - 734, 1584],
  ]);
  assertCropOf(result.pictures[0].png, image, 122, 316);
  // vlmkit's own decoder, which checks every chunk's CRC, reads the file back pixel for pixel.
  assert.deepEqual(
    decodeImage(result.pictures[0].png),
    cropRgb(image, 122, 316, 490, 634),
  );
  assertCropOf(result.pictures[1].png, image, 734, 0);
  const bbox = result.pictures[0].bbox;
  assert.ok(Math.abs(bbox.l - 61.2) < 1e-9 && Math.abs(bbox.b - 475.2) < 1e-9, "bbox in points");

  // The empty third box gets no file, an issue, and the placeholder.
  assert.deepEqual(result.issues.map((i) => [i.code, i.page]), [["picture_not_cropped", 2]]);
  assert.equal(
    result.markdown,
    "Intro\n\nFigure 1: Sales\n\n![Image](pictures/page-002-picture-01.png)\n\nBar chart\n\n" +
      "![Image](pictures/page-002-picture-02.png)\n\n<!-- image -->",
  );
  assert.match(
    result.html,
    /<figure><figcaption><div class="caption">Figure 1: Sales<\/div><\/figcaption><img src="pictures\/page-002-picture-01\.png">/,
  );
  assert.match(result.html, /<figure><img src="pictures\/page-002-picture-02\.png"><\/figure>/);
  const json = result.json as { pictures: { image?: unknown; meta?: unknown; annotations: [] }[] };
  assert.deepEqual(json.pictures[0].image, {
    mimetype: "image/png",
    dpi: 144,
    size: { width: 490, height: 634 },
    uri: "pictures/page-002-picture-01.png",
  });
  assert.equal(json.pictures[2].image, undefined);
  // With page images docling keeps the class only as meta, without legacy annotations.
  assert.deepEqual(json.pictures[0].annotations, []);
  assert.ok(json.pictures[0].meta);
  assert.match(result.jsonText, /"size": \{\n\s+"width": 490\.0,/);

  const renamed = assembleDocument(pages, { picturesDir: "out/figs/" });
  assert.equal(renamed.pictures[0].path, "out/figs/page-002-picture-01.png");
  const beside = assembleDocument(pages, { picturesDir: "" });
  assert.equal(beside.pictures[0].path, "page-002-picture-01.png");
  assert.match(beside.markdown, /!\[Image\]\(page-002-picture-01\.png\)/);
});

Deno.test("assembleDocument: HTML image paths are percent-encoded as docling's quote()", () => {
  const result = assembleDocument([{
    pageNo: 1,
    doctags: "<doctag><picture><loc_0><loc_0><loc_500><loc_500></picture></doctag>",
    size: { width: 10, height: 10 },
    image: createRgbImage(10, 10),
  }], { picturesDir: "my pictures/été" });
  assert.match(result.html, /<img src="my%20pictures\/%C3%A9t%C3%A9\/page-001-picture-01\.png">/);
  assert.match(result.markdown, /!\[Image\]\(my pictures\/été\/page-001-picture-01\.png\)/);
});

Deno.test("property: any box on the loc grid, any page size → crop = int-scaled box inside the image", () => {
  const loc = fc.integer({ min: 0, max: 500 });
  fc.assert(
    fc.property(
      fc.tuple(loc, loc, loc, loc),
      fc.record({
        width: fc.double({ min: 1, max: 5000, noNaN: true }),
        height: fc.double({ min: 1, max: 5000, noNaN: true }),
      }),
      fc.integer({ min: 1, max: 160 }),
      fc.integer({ min: 1, max: 160 }),
      ([a, b, c, d], size, iw, ih) => {
        const [l, r] = a <= c ? [a, c] : [c, a];
        const [t, bottom] = b <= d ? [b, d] : [d, b];
        const image = positional(iw, ih);
        const result = assembleDocument([{
          pageNo: 1,
          doctags:
            `<doctag><picture><loc_${l}><loc_${t}><loc_${r}><loc_${bottom}></picture></doctag>`,
          size,
          image,
        }]);
        const x0 = Math.trunc((l / 500) * iw), x1 = Math.trunc((r / 500) * iw);
        const y0 = Math.trunc((t / 500) * ih), y1 = Math.trunc((bottom / 500) * ih);
        if (x1 <= x0 || y1 <= y0) {
          assert.equal(result.pictures.length, 0);
          assert.equal(result.issues[0]?.code, "picture_not_cropped");
          return;
        }
        assert.equal(result.pictures.length, 1);
        const picture = result.pictures[0];
        assert.deepEqual(picture.size, { width: x1 - x0, height: y1 - y0 });
        assert.ok(x1 <= iw && y1 <= ih, "inside the image");
        const decoded = decodePng(picture.png);
        assert.deepEqual([decoded.width, decoded.height], [x1 - x0, y1 - y0]);
        assertCropOf(picture.png, image, x0, y0);
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("property: crop rectangles of arbitrary boxes stay inside the image", () => {
  const coord = fc.double({ min: -2000, max: 4000, noNaN: true });
  fc.assert(
    fc.property(
      fc.record({ l: coord, t: coord, r: coord, b: coord }),
      fc.integer({ min: 1, max: 4000 }),
      fc.integer({ min: 1, max: 4000 }),
      (box, iw, ih) => {
        const rect = pictureCropRect(box, { width: 1000, height: 1000 }, { width: iw, height: ih });
        if (!rect) return;
        assert.ok(rect.left >= 0 && rect.top >= 0 && rect.width >= 1 && rect.height >= 1);
        assert.ok(rect.left + rect.width <= iw && rect.top + rect.height <= ih);
      },
    ),
  );
});

Deno.test("property: joined page DocTags split back into the pages", () => {
  const fragment = fc.constantFrom(
    "<doctag>",
    "</doctag>",
    "<text>",
    "</text>",
    "<loc_12>",
    "Assistant:",
    "<end_of_utterance>",
    " ",
    "\n",
    "a",
    "é",
  );
  const page = fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join(""));
  fc.assert(
    fc.property(fc.array(page, { minLength: 1, maxLength: 5 }), (pages) => {
      assert.deepEqual(splitPages(joinPageDocTags(pages), "split"), pages.map(pageDocTagsBody));
    }),
  );
});

Deno.test("assembleDocument: malformed pages are refused with input_invalid and a fix", () => {
  const ok: DocumentPage = { pageNo: 1, doctags: "<doctag></doctag>", size: UNIT };
  const bad: [string, DocumentPage[], RegExp][] = [
    ["no pages", [], /no pages/],
    ["page 0", [{ ...ok, pageNo: 0 }], /pageNo is 0/],
    ["repeated", [ok, ok], /pageNo 1 does not follow page 1/],
    ["decreasing", [{ ...ok, pageNo: 2 }, ok], /pageNo 1 does not follow page 2/],
    ["size", [{ ...ok, size: { width: 0, height: 5 } }], /size is/],
    ["size NaN", [{ ...ok, size: { width: NaN, height: 5 } }], /size is/],
    ["image", [{ ...ok, image: { width: 2, height: 2, data: new Uint8Array(3) } }], /image/],
    ["doctags", [{ ...ok, doctags: 5 as unknown as string }], /doctags is not a string/],
  ];
  for (const [name, pages, message] of bad) {
    assert.throws(() => assembleDocument(pages), (error: unknown) => {
      assert.ok(error instanceof VlmError, name);
      assert.equal(error.code, "input_invalid", name);
      assert.match(error.message, message, name);
      assert.ok(error.fix, name);
      return true;
    });
  }
});

Deno.test("assembleDocument: the tolerant reader keeps truncated pages and reports them", () => {
  const pages = unitPages([
    "<doctag><text><loc_1><loc_1><loc_9><loc_9>Done</text></doctag>",
    "<doctag><text><loc_1><loc_1><loc_9><loc_9>Cut off mid",
  ]).map((p, i) => ({ ...p, pageNo: [4, 9][i] }));
  const tolerant = assembleDocument(pages, { reader: "tolerant" });
  assert.equal(tolerant.markdown, "Done\n\nCut off mid");
  assert.ok(tolerant.issues.length > 0);
  assert.ok(tolerant.issues.every((i) => i.page === 9), "issues carry the caller's page number");
  assert.ok(tolerant.issues.some((i) => i.code === "truncated"));
  assert.throws(
    () => assembleDocument(pages, { reader: "other" as "docling" }),
    (e: unknown) => e instanceof VlmError && e.code === "usage",
  );
});
