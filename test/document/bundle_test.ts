import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleModule } from "../../tools/cli/esbuild_bundle.ts";
import { makePdf } from "./_pdfs.ts";

const ROOT = new URL("../../", import.meta.url);
const DENO = fileURLToPath(new URL("node_modules/.bin/deno", ROOT));

Deno.test("a bundle embeds PDFium and renders a page with no permission at all", async () => {
  const work = await Deno.makeTempDir({ prefix: "vlmkit-pdf-bundle-" });
  try {
    const bundle = `${work}/pdf.js`;
    await bundleModule(fileURLToPath(new URL("src/document/pdf_document.ts", ROOT)), bundle);
    const script = `${work}/main.js`;
    await Deno.writeTextFile(
      script,
      `import { openPdf } from "./pdf.js";
const bytes = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
const pdf = await openPdf(bytes);
const image = pdf.renderPage(1);
const at = (x, y) => Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));
console.log(JSON.stringify({ pages: pdf.pageCount, width: image.width, height: image.height, inside: at(60, 150), outside: at(5, 5) }));
`,
    );
    const child = new Deno.Command(DENO, {
      args: ["run", "--no-prompt", "--no-config", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    // A 200x100 pt page with a red box at (10, 10) pt, 50x30 pt: pixels 20..120 x 120..180 at 144 dpi.
    await writer.write(
      await makePdf([{
        width: 200,
        height: 100,
        boxes: [{ x: 10, y: 10, width: 50, height: 30, color: [255, 0, 0] }],
      }]),
    );
    await writer.close();
    const { code, stdout, stderr } = await child.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
      pages: 1,
      width: 400,
      height: 200,
      inside: [255, 0, 0],
      outside: [255, 255, 255],
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("a bundle of the document entry loads PDFium on the first PDF, offline", async () => {
  const work = await Deno.makeTempDir({ prefix: "vlmkit-document-bundle-" });
  try {
    const bundle = `${work}/document.js`;
    await bundleModule(fileURLToPath(new URL("src/document/document_source.ts", ROOT)), bundle);
    const script = `${work}/main.js`;
    await Deno.writeTextFile(
      script,
      `import { openDocumentSource } from "./document.js";
const bytes = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
const source = await openDocumentSource(bytes);
console.log(JSON.stringify({ kind: source.kind, raster: source.pages[0].rasterSize }));
source.close();
`,
    );
    const child = new Deno.Command(DENO, {
      args: ["run", "--no-prompt", "--no-config", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(await makePdf([{ width: 200, height: 100 }]));
    await writer.close();
    const { code, stdout, stderr } = await child.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
      kind: "pdf",
      raster: { width: 400, height: 200 },
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
