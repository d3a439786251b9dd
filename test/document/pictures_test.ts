// Pictures through the whole document path: recorded page DocTags place a <picture> at a
// rectangle drawn in a test-made PDF; the crop must be that rectangle, at the box's size.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { convertDocument } from "../../src/document/convert_document.ts";
import { decodeImage } from "../../src/image/decode.ts";
import type { RgbImage } from "../../src/image/raster.ts";
import { runVlm } from "../cli/_vlm.ts";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";
import { EOS, fakeModel, pageDoctags } from "./_fake_model.ts";
import { makePdf } from "./_pdfs.ts";

// A 200x100 pt page renders to 400x200 px at 144 dpi. The red box at (10, 10) pt from the
// bottom left, 50x30 pt, covers pixels x 20..120, y 120..180: on the 500 grid l 25, t 300,
// r 150, b 450.
const RED: [number, number, number] = [255, 0, 0];
const BLUE: [number, number, number] = [0, 0, 255];
const picturePdf = () =>
  makePdf([
    { width: 200, height: 100, boxes: [{ x: 10, y: 10, width: 50, height: 30, color: RED }] },
    { width: 200, height: 100, boxes: [{ x: 10, y: 10, width: 50, height: 30, color: BLUE }] },
    { width: 200, height: 100 },
  ]);
const PICTURE = "<doctag><picture><loc_25><loc_300><loc_150><loc_450></picture></doctag>";

/** Every pixel of `image` is `color`. */
function allPixels(image: RgbImage, color: readonly number[]): boolean {
  for (let i = 0; i < image.data.length; i += 3) {
    if (image.data[i] !== color[0] || image.data[i + 1] !== color[1]) return false;
    if (image.data[i + 2] !== color[2]) return false;
  }
  return true;
}

Deno.test("pictures are cropped from generated and resumed pages at their boxes", async () => {
  // Page 1 is generated (its raster kept from the render the model read), page 2 comes
  // from an earlier run (rendered again for its picture), page 3 has no picture.
  const model = fakeModel((call) => ({
    text: call === 0 ? PICTURE : pageDoctags("no picture here"),
    tokenIds: [5, 6, EOS],
    finishReason: "stop_string",
  }));
  const conversion = await convertDocument(model, await picturePdf(), {
    completed: new Map([[2, PICTURE]]),
    name: "boxes",
  });
  const { document, pages } = await conversion.result();
  assert.equal(model.requests.length, 2);
  assert.deepEqual(pages.map((p) => p.resumed), [false, true, false]);
  assert.deepEqual(document.pictures.map((p) => [p.path, p.pageNo, p.size]), [
    ["pictures/page-001-picture-01.png", 1, { width: 100, height: 60 }],
    ["pictures/page-002-picture-01.png", 2, { width: 100, height: 60 }],
  ]);
  const [first, second] = document.pictures.map((p) => decodeImage(p.png));
  assert.deepEqual([first.width, first.height], [100, 60]);
  assert.ok(allPixels(first, RED), "page 1's crop is the red rectangle");
  assert.ok(allPixels(second, BLUE), "page 2's crop is the blue rectangle");
  // Sizes and boxes in raster pixels at the render scale, as docling's VLM pipeline has them.
  const json = document.json as {
    name: string;
    pages: Record<string, { size: { width: number; height: number } }>;
    pictures: { image?: { uri: string }; prov: { bbox: { l: number; t: number } }[] }[];
  };
  assert.equal(json.name, "boxes");
  assert.deepEqual(json.pages["3"].size, { width: 400, height: 200 });
  assert.deepEqual(
    json.pictures.map((p) => [p.image?.uri, p.prov[0].bbox.l, p.prov[0].bbox.t]),
    [["pictures/page-001-picture-01.png", 20, 120], ["pictures/page-002-picture-01.png", 20, 120]],
  );
  assert.match(document.markdown, /!\[Image\]\(pictures\/page-001-picture-01\.png\)/);
  assert.match(document.html, /<img src="pictures\/page-002-picture-01\.png"/);
});

Deno.test("a picture on an image page is cropped from the image, sizes in its pixels", async () => {
  const pdfPage = await convertDocument(
    fakeModel(() => {
      throw new Error("not called");
    }),
    await picturePdf(),
    { pages: "1", completed: new Map([[1, PICTURE]]) },
  );
  const raster = (await pdfPage.result()).document.pictures[0];
  assert.ok(raster);
  // The page as a PNG file: same pixels, so the same crop, with the image's size as page size.
  const { encodePng } = await import("../../src/image/png_encode.ts");
  const { openPdf } = await import("../../src/document/pdf_document.ts");
  const pdf = await openPdf(await picturePdf());
  const png = encodePng(pdf.renderPage(1));
  pdf.close();
  const images = await convertDocument(
    fakeModel(() => ({
      text: PICTURE,
      tokenIds: [5, EOS],
      finishReason: "stop_string",
    })),
    [png],
  );
  const { document } = await images.result();
  assert.deepEqual(document.pictures[0].size, { width: 100, height: 60 });
  assert.ok(allPixels(decodeImage(document.pictures[0].png), RED));
  assert.deepEqual((document.json as { pages: { 1: { size: unknown } } }).pages[1].size, {
    width: 400,
    height: 200,
  });
});

Deno.test("vlm document --resume writes the pictures of resumed pages", async () => {
  const work = await Deno.makeTempDir({ prefix: "vlmkit-document-pictures-" });
  try {
    const pdf = join(work, "boxes.pdf");
    await Deno.writeFile(pdf, await picturePdf());
    const out = join(work, "out");
    // An earlier run's page records: every page done, so the model generates nothing.
    await Deno.mkdir(join(out, "boxes", "pages"), { recursive: true });
    const earlier: [number, string][] = [[1, PICTURE], [2, PICTURE], [3, pageDoctags("text")]];
    for (const [pageNo, doctags] of earlier) {
      await Deno.writeTextFile(join(out, "boxes", "pages", `page-000${pageNo}.doctags`), doctags);
    }
    const run = await runVlm(["--allow-read", "--allow-write", "--allow-env"], [
      "document",
      ...["--model", fileURLToPath(TINY_MODEL), "--in", pdf, "--out", out, "--resume", "--json"],
    ]);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout).summary;
    assert.deepEqual([summary.generated, summary.resumed], [0, 3]);
    const markdown = await Deno.readTextFile(join(out, "boxes", "boxes.md"));
    const paths = [...markdown.matchAll(/!\[Image\]\(([^)]+)\)/g)].map((m) => m[1]);
    assert.deepEqual(paths, [
      "pictures/page-001-picture-01.png",
      "pictures/page-002-picture-01.png",
    ]);
    const files = [];
    for await (const entry of Deno.readDir(join(out, "boxes", "pictures"))) files.push(entry.name);
    assert.deepEqual(files.sort(), ["page-001-picture-01.png", "page-002-picture-01.png"]);
    const crop = decodeImage(await Deno.readFile(join(out, "boxes", paths[1])));
    assert.deepEqual([crop.width, crop.height], [100, 60]);
    assert.ok(allPixels(crop, BLUE));
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
