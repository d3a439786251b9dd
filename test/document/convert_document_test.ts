import assert from "node:assert/strict";
import { convertDocument } from "../../src/document/convert_document.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { decodeImage } from "../../src/image/decode.ts";
import { caughtAsync, makePdf, pixelAt } from "./_pdfs.ts";
import { cappedReply, fakeModel, loopingReply, okReply, pageDoctags } from "./_fake_model.ts";

const GREEN = [0, 160, 0] as [number, number, number];

/** Pages of 100 x 50 pt with a green box whose width grows with the page number. */
function pages(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    width: 100,
    height: 50,
    boxes: [{ x: 0, y: 0, width: 10 * (i + 1), height: 50, color: GREEN }],
  }));
}

Deno.test("one generation per page, in order, with the page image, prompt and stop strings", async () => {
  const model = fakeModel((call) => okReply(`page ${call + 1}`));
  const conversion = await convertDocument(model, await makePdf(pages(3)));
  assert.equal(conversion.kind, "pdf");
  assert.deepEqual(conversion.pageNumbers, [1, 2, 3]);
  const seen = [];
  for await (const page of conversion) seen.push(page);
  assert.deepEqual(seen.map((p) => [p.pageNo, p.status]), [[1, "ok"], [2, "ok"], [3, "ok"]]);
  assert.equal(model.requests.length, 3);
  model.requests.forEach((request, i) => {
    assert.deepEqual(request.stopStrings, ["</doctag>", "<end_of_utterance>"]);
    assert.equal(request.skipSpecialTokens, false);
    assert.equal(request.maxNewTokens, 4096);
    assert.match(JSON.stringify(request.messages), /Convert this page to docling\./);
    // The model sees the page at 144 dpi: the green box covers 20 px per page number.
    const image = decodeImage(request.images![0] as Uint8Array);
    assert.deepEqual([image.width, image.height], [200, 100]);
    assert.deepEqual(pixelAt(image, 20 * (i + 1) - 2, 50), GREEN);
    assert.deepEqual(pixelAt(image, 20 * (i + 1) + 1, 50), [255, 255, 255]);
  });
  assert.deepEqual(seen[0].size, { width: 100, height: 50 });
  assert.deepEqual(seen[0].raster, { width: 200, height: 100 });
  const { document, pages: all } = await conversion.result();
  assert.equal(all.length, 3);
  assert.match(document.markdown, /page 1[\s\S]*page 2[\s\S]*page 3/);
  assert.equal(document.doctags.split("<page_break>").length, 3);
  assert.equal(Object.keys((document.json as { pages: object }).pages).length, 3);
});

Deno.test("a page that fails, loops or hits the cap is reported; the others still finish", async () => {
  const script = [
    okReply("first"),
    { throws: new VlmError("budget_unsatisfiable", "the prompt does not fit", { fix: "x" }) },
    loopingReply(),
    cappedReply(12),
    okReply("last"),
  ];
  const model = fakeModel((call) => script[call]);
  const conversion = await convertDocument(model, await makePdf(pages(5)), { maxNewTokens: 12 });
  const { pages: results, document } = await conversion.result();
  assert.deepEqual(results.map((p) => p.status), ["ok", "failed", "looped", "capped", "ok"]);
  assert.equal(results[1].errorCode, "budget_unsatisfiable");
  assert.match(results[1].reason!, /does not fit/);
  assert.match(results[2].reason!, /loop guard/);
  assert.match(results[3].reason!, /cap of 12/);
  assert.equal(model.requests[0].maxNewTokens, 12);
  // The tolerant reader (default) keeps the capped page's unclosed text; docling's empties it.
  assert.match(document.markdown, /first[\s\S]*Same line[\s\S]*Unfinished[\s\S]*last/);
  assert.ok(document.issues.some((issue) => issue.page === 4));
  const docling = await convertDocument(
    fakeModel((call) => script[call]),
    await makePdf(pages(5)),
    {
      maxNewTokens: 12,
      reader: "docling",
    },
  );
  const strict = (await docling.result()).document;
  assert.match(strict.markdown, /first[\s\S]*last/);
  assert.doesNotMatch(strict.markdown, /Unfinished/);
});

Deno.test("pages, dpi and resume choose what is generated", async () => {
  const model = fakeModel((call) => okReply(`new ${call}`));
  const completed = new Map([[2, pageDoctags("from before")]]);
  const conversion = await convertDocument(model, await makePdf(pages(8)), {
    pages: "2-3,7",
    dpi: 72,
    completed,
  });
  const { pages: results, document } = await conversion.result();
  assert.deepEqual(results.map((p) => [p.pageNo, p.resumed]), [[2, true], [3, false], [7, false]]);
  assert.equal(model.requests.length, 2);
  const image = decodeImage(model.requests[0].images![0] as Uint8Array);
  assert.deepEqual([image.width, image.height], [100, 50]);
  assert.match(document.markdown, /from before[\s\S]*new 0[\s\S]*new 1/);
});

Deno.test("images are pages too, at their own size", async () => {
  const model = fakeModel(() => okReply("image page"));
  const png = await Deno.readFile(
    new URL("../fixtures/images/sources/checker.png", import.meta.url),
  );
  const conversion = await convertDocument(model, [png, png]);
  assert.equal(conversion.kind, "images");
  const { pages: results } = await conversion.result();
  assert.equal(results.length, 2);
  const { width, height } = decodeImage(png);
  assert.deepEqual(results[0].size, { width, height });
  assert.equal(model.requests[0].images![0], png);
});

Deno.test("bad input is refused before any page runs", async () => {
  const model = fakeModel(() => okReply("never"));
  const pdf = await makePdf(pages(2));
  const cases: [() => Promise<unknown>, string, RegExp][] = [
    [() => convertDocument(model, pdf, { pages: "3" }), "input_invalid", /past the last page/],
    [() => convertDocument(model, pdf, { dpi: 0 }), "input_invalid", /out of range/],
    [() => convertDocument(model, pdf, { maxNewTokens: 0 }), "input_invalid", /positive/],
    [() => convertDocument(model, pdf, { maxPages: 1 }), "input_invalid", /2 pages/],
    [
      () => convertDocument(model, new TextEncoder().encode("hello")),
      "image_unsupported",
      /not a PDF, PNG or JPEG/,
    ],
    [() => convertDocument(model, []), "input_invalid", /no pages/],
  ];
  for (const [run, code, message] of cases) {
    const error = await caughtAsync(run);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
  }
  assert.equal(model.requests.length, 0);
});

Deno.test("an abort stops the conversion instead of failing a page", async () => {
  const controller = new AbortController();
  const model = fakeModel((call) => {
    if (call === 1) controller.abort(new DOMException("stop", "AbortError"));
    return call === 1 ? { throws: new DOMException("stop", "AbortError") } : okReply("p");
  });
  const conversion = await convertDocument(model, await makePdf(pages(3)), {
    signal: controller.signal,
  });
  await assert.rejects(conversion.result(), (error: Error) => error.name === "AbortError");
  assert.equal(model.requests.length, 2);
});
