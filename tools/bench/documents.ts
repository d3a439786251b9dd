/**
 * Document conversion speed: pages per second for PDF rasterisation (PDFium
 * in WebAssembly at docling's scale 2, alone and with the PNG encoding the
 * pipeline adds), and for the whole pipeline (`convertDocument`: render,
 * preprocess, vision, prefill, decode up to the token cap) on a synthesized
 * full-size SmolDocling-256M (random weights) per dtype and backend.
 *
 * The test document is made here with pdf-lib: A4 pages (595×842 pt) of
 * Helvetica text lines and filled boxes, so every page renders to
 * 1190×1684 pixels.
 *
 * `deno run -A tools/bench/documents.ts [--pages N] [--raster-pages N] [--tokens N]
 * [--dtypes int8,q4] [--backends native,wasm] [--raster-only]` prints JSON.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PDFDocument, rgb, StandardFonts } from "pdf-lib";
import { synthesize } from "../../src/build/synthesize.ts";
import type { WeightFormat } from "../../src/build/layers/ops.ts";
import { convertDocument } from "../../src/document/convert_document.ts";
import { openPdf } from "../../src/document/pdf_document.ts";
import { encodePng } from "../../src/image/png_encode.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { getPreset } from "../../variants/mod.ts";
import { writeFolderAtomically } from "../cli/folder_writer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    pages: { type: "string", default: "3" },
    "raster-pages": { type: "string", default: "20" },
    tokens: { type: "string", default: "64" },
    dtypes: { type: "string", default: "int8,q4" },
    backends: { type: "string", default: "native" },
    "raster-only": { type: "boolean", default: false },
  },
});

/** An A4 document of text lines and boxes. */
async function testDocument(pages: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage([595, 842]);
    page.drawText(`Section ${p + 1}: measured conversion`, { x: 60, y: 780, size: 18, font });
    for (let line = 0; line < 40; line++) {
      page.drawText(
        `Line ${line + 1} of page ${p + 1}: the quick brown fox jumps over the lazy dog.`,
        { x: 60, y: 740 - line * 14, size: 10, font },
      );
    }
    page.drawRectangle({ x: 60, y: 60, width: 200, height: 100, color: rgb(0.2, 0.4, 0.8) });
    page.drawRectangle({ x: 300, y: 60, width: 235, height: 100, color: rgb(0.9, 0.6, 0.1) });
  }
  return await doc.save();
}

async function rasterFigures(pages: number) {
  const bytes = await testDocument(pages);
  const pdf = await openPdf(bytes);
  try {
    pdf.renderPage(1); // instantiation and first-use costs stay out of the figures
    let started = performance.now();
    for (let i = 1; i <= pages; i++) pdf.renderPage(i);
    const renderSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    let pngBytes = 0;
    for (let i = 1; i <= pages; i++) pngBytes += encodePng(pdf.renderPage(i)).length;
    const withPngSeconds = (performance.now() - started) / 1000;
    const size = pdf.rasterSize(1);
    return {
      pages,
      raster: size,
      renderPagesPerSec: pages / renderSeconds,
      renderAndPngPagesPerSec: pages / withPngSeconds,
      meanPngBytes: Math.round(pngBytes / pages),
    };
  } finally {
    pdf.close();
  }
}

async function pipelineFigures(
  dir: string,
  dtype: WeightFormat,
  backend: "native" | "wasm",
  pages: number,
  tokens: number,
) {
  const folder = join(dir, `smoldocling-256m-${dtype}`);
  try {
    await Deno.stat(folder);
  } catch {
    const built = synthesize(getPreset("smoldocling-256m"), { seed: 0, dtype });
    await writeFolderAtomically(folder, built.files, false);
  }
  const loadStarted = performance.now();
  const model = await loadModel(folder, { backend, dtype });
  const loadMs = performance.now() - loadStarted;
  try {
    const bytes = await testDocument(pages);
    const started = performance.now();
    const conversion = await convertDocument(model, bytes, { maxNewTokens: tokens });
    const perPage = [];
    for await (const page of conversion) {
      perPage.push({
        pageNo: page.pageNo,
        status: page.status,
        tokens: page.tokens,
        rasterMs: Math.round(page.timings.rasterMs),
        generateMs: Math.round(page.timings.generateMs),
        visionMs: Math.round(page.timings.visionMs ?? 0),
        prefillMs: Math.round(page.timings.prefillMs ?? 0),
        decodeTokensPerSec: Number((page.timings.decodeTokensPerSec ?? 0).toFixed(2)),
      });
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      model: "smoldocling-256m (synthesized, random weights)",
      dtype,
      backend,
      tokenCap: tokens,
      loadMs: Math.round(loadMs),
      pages,
      seconds: Number(seconds.toFixed(2)),
      pagesPerSec: pages / seconds,
      perPage,
    };
  } finally {
    await model.dispose();
  }
}

const raster = await rasterFigures(Number(values["raster-pages"]));
console.error(`raster: ${raster.renderPagesPerSec.toFixed(2)} pages/s`);
const pipeline = [];
if (!values["raster-only"]) {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-bench-documents-" });
  try {
    for (const dtype of values.dtypes!.split(",") as WeightFormat[]) {
      for (const backend of values.backends!.split(",") as ("native" | "wasm")[]) {
        const figures = await pipelineFigures(
          dir,
          dtype,
          backend,
          Number(values.pages),
          Number(values.tokens),
        );
        console.error(`${dtype}/${backend}: ${figures.pagesPerSec.toFixed(3)} pages/s`);
        pipeline.push(figures);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
console.log(JSON.stringify({ cpus: navigator.hardwareConcurrency, raster, pipeline }, null, 2));
