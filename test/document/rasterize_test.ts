import assert from "node:assert/strict";
import { DEFAULT_PDF_SCALE, openPdf } from "../../src/document/pdf_document.ts";
import {
  type Box,
  caught,
  caughtAsync,
  encryptedPdf,
  handWrittenPdf,
  makePdf,
  pixelAt,
} from "./_pdfs.ts";

const RED: Box = { x: 20, y: 10, width: 50, height: 30, color: [255, 0, 0] };
const BLUE: Box = { x: 100, y: 300, width: 80, height: 40, color: [0, 0, 255] };

/** The pixel rectangle a box covers at `scale` on a page `pageHeight` points tall. */
function pixelBox(box: Box, pageHeight: number, scale: number) {
  return {
    left: box.x * scale,
    right: (box.x + box.width) * scale,
    top: (pageHeight - box.y - box.height) * scale,
    bottom: (pageHeight - box.y) * scale,
  };
}

function assertBoxDrawn(
  image: { width: number; height: number; data: Uint8Array },
  box: Box,
  pageHeight: number,
  scale: number,
) {
  const p = pixelBox(box, pageHeight, scale);
  // Inside (a pixel in from each edge, away from anti-aliasing): the box's colour.
  for (
    const [x, y] of [[p.left + 1, p.top + 1], [p.right - 2, p.bottom - 2], [
      Math.floor((p.left + p.right) / 2),
      Math.floor((p.top + p.bottom) / 2),
    ]]
  ) {
    assert.deepEqual(pixelAt(image, x, y), box.color, `inside at ${x},${y}`);
  }
  // Just outside each edge: the white page.
  for (
    const [x, y] of [[p.left - 2, p.top + 2], [p.right + 1, p.top + 2], [p.left + 2, p.top - 2], [
      p.left + 2,
      p.bottom + 1,
    ]]
  ) {
    assert.deepEqual(pixelAt(image, x, y), [255, 255, 255], `outside at ${x},${y}`);
  }
}

Deno.test("pages render at the PDF's size times the scale, with shapes where they were drawn", async () => {
  const bytes = await makePdf([
    { width: 200, height: 100, boxes: [RED] },
    { width: 300, height: 400, boxes: [BLUE] },
  ]);
  const pdf = await openPdf(bytes);
  try {
    assert.deepEqual(pdf.pageCount, 2);
    assert.deepEqual(pdf.pageSize(1), { width: 200, height: 100 });
    assert.deepEqual(pdf.pageSize(2), { width: 300, height: 400 });
    const first = pdf.renderPage(1);
    assert.deepEqual([first.width, first.height], [400, 200]);
    assert.deepEqual(first.data.length, 400 * 200 * 3);
    assertBoxDrawn(first, RED, 100, DEFAULT_PDF_SCALE);
    const second = pdf.renderPage(2, { scale: 1 });
    assert.deepEqual([second.width, second.height], [300, 400]);
    assertBoxDrawn(second, BLUE, 400, 1);
    const third = pdf.renderPage(2, { scale: 3 });
    assert.deepEqual([third.width, third.height], [900, 1200]);
    assertBoxDrawn(third, BLUE, 400, 3);
  } finally {
    pdf.close();
  }
});

Deno.test("a fractional page size rounds its raster up", async () => {
  const pdf = await openPdf(await makePdf([{ width: 100.3, height: 50.6 }]));
  try {
    assert.deepEqual(pdf.rasterSize(1, 2), { width: 201, height: 102 });
    const image = pdf.renderPage(1);
    assert.deepEqual([image.width, image.height], [201, 102]);
  } finally {
    pdf.close();
  }
});

async function rejectsWith(bytes: Uint8Array, pattern: RegExp, options = {}) {
  const error = await caughtAsync(() => openPdf(bytes, options));
  assert.deepEqual(error.code, "input_invalid");
  assert.deepEqual(pattern.test(error.message), true, error.message);
  assert.deepEqual(typeof error.fix, "string");
  return error;
}

Deno.test("an encrypted PDF is refused with a password error; a wrong password too", async () => {
  const error = await rejectsWith(encryptedPdf(), /encrypted with a password/);
  assert.deepEqual(/password/.test(error.fix!), true);
  await rejectsWith(encryptedPdf(), /password is wrong/, { password: "guess" });
});

Deno.test("corrupt PDFs are refused as invalid", async () => {
  await rejectsWith(new TextEncoder().encode("this is not a PDF at all"), /not a valid PDF/);
  await rejectsWith(new Uint8Array(0), /not a valid PDF/);
  await rejectsWith(
    new TextEncoder().encode("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\n"),
    /not a valid PDF|cannot be opened/,
  );
});

Deno.test("a document over the page limit is refused", async () => {
  const bytes = await makePdf(Array.from({ length: 5 }, () => ({ width: 100, height: 100 })));
  await rejectsWith(bytes, /5 pages, more than the limit of 3/, { maxPages: 3 });
  const pdf = await openPdf(bytes, { maxPages: 5 });
  assert.deepEqual(pdf.pageCount, 5);
  pdf.close();
});

Deno.test("a raster over the pixel limit is refused from the page size, before rendering", async () => {
  // PDF's largest page (200 inches square): 829 million pixels at scale 2.
  const huge = handWrittenPdf([
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>",
  ]);
  const pdf = await openPdf(huge);
  try {
    assert.deepEqual(pdf.pageSize(1), { width: 14400, height: 14400 });
    const error = caught(() => pdf.renderPage(1));
    assert.deepEqual(error.code, "image_too_large");
    assert.deepEqual(/28800x28800/.test(error.message), true, error.message);
    const small = caught(() => pdf.renderPage(1, { scale: 0.01, maxPixels: 100 }));
    assert.deepEqual(small.code, "image_too_large");
    assert.deepEqual(pdf.renderPage(1, { scale: 0.01 }).width, 144);
  } finally {
    pdf.close();
  }
});

Deno.test("pages outside the document and a closed document are typed errors", async () => {
  const pdf = await openPdf(await makePdf([{ width: 100, height: 100 }]));
  for (const pageNo of [0, 2, 1.5]) {
    assert.deepEqual(caught(() => pdf.renderPage(pageNo)).code, "input_invalid");
  }
  assert.deepEqual(caught(() => pdf.rasterSize(1, 0)).code, "input_invalid");
  pdf.close();
  assert.deepEqual(caught(() => pdf.pageSize(1)).code, "usage");
});
