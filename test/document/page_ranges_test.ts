import assert from "node:assert/strict";
import fc from "fast-check";
import { formatPageRanges, parsePageRanges } from "../../src/document/page_ranges.ts";
import { caught } from "./_pdfs.ts";

Deno.test("page selections: lists, ranges, open ranges, all", () => {
  assert.deepEqual(parsePageRanges("1-3,7", 10), [1, 2, 3, 7]);
  assert.deepEqual(parsePageRanges(" 7 , 2-3, 3 ", 10), [2, 3, 7]);
  assert.deepEqual(parsePageRanges("8-", 10), [8, 9, 10]);
  assert.deepEqual(parsePageRanges("all", 3), [1, 2, 3]);
  assert.deepEqual(parsePageRanges("", 2), [1, 2]);
  assert.equal(formatPageRanges([7, 1, 2, 3, 3, 9, 10]), "1-3,7,9-10");
});

Deno.test("bad page selections are input errors naming the part", () => {
  for (
    const [spec, part] of [
      ["0", "numbered from 1"],
      ["3-1", '"3-1" runs backwards'],
      [
        "1,,2",
        '"" is not',
      ],
      ["a", '"a" is not'],
      ["11", "past the last page (10)"],
      ["2-12", "past the last page"],
      [
        "-3",
        '"-3" is not',
      ],
    ]
  ) {
    const error = caught(() => parsePageRanges(spec, 10));
    assert.equal(error.code, "input_invalid");
    assert.ok(error.message.includes(part), `${spec}: ${error.message}`);
    assert.ok(error.fix?.includes("between 1 and 10"));
  }
});

const pageSets = fc.integer({ min: 1, max: 60 }).chain((count) =>
  fc.tuple(fc.constant(count), fc.uniqueArray(fc.integer({ min: 1, max: count }), { minLength: 1 }))
);

Deno.test("property: formatting a page set and parsing it back gives the set, sorted", () => {
  fc.assert(fc.property(pageSets, ([count, pages]) => {
    const parsed = parsePageRanges(formatPageRanges(pages), count);
    assert.deepEqual(parsed, [...pages].sort((a, b) => a - b));
  }));
});

Deno.test("property: any accepted selection is sorted, unique and inside the document", () => {
  const part = fc.oneof(
    fc.integer({ min: 0, max: 70 }).map(String),
    fc.tuple(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 70 }))
      .map(([a, b]) => `${a}-${b}`),
    fc.integer({ min: 0, max: 70 }).map((a) => `${a}-`),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 60 }),
      fc.array(part, { minLength: 1 }),
      (count, parts) => {
        let pages: number[];
        try {
          pages = parsePageRanges(parts.join(","), count);
        } catch (error) {
          assert.equal((error as { code?: string }).code, "input_invalid");
          return;
        }
        assert.ok(pages.length > 0);
        pages.forEach((page, i) => {
          assert.ok(Number.isInteger(page) && page >= 1 && page <= count);
          if (i > 0) assert.ok(page > pages[i - 1]);
        });
      },
    ),
  );
});
