import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleModule } from "../../tools/cli/esbuild_bundle.ts";
import { makePdf } from "./_pdfs.ts";

const ROOT = new URL("../../", import.meta.url);
const DENO = fileURLToPath(new URL("node_modules/.bin/deno", ROOT));

/**
 * Bundles `entry` (a repo path) as `bundle.js`, runs `script` (which imports
 * it) with no permission at all and `input` on stdin, and returns the JSON
 * the script printed.
 */
async function runBundled(entry: string, script: string, input: Uint8Array): Promise<unknown> {
  const work = await Deno.makeTempDir({ prefix: "vlmkit-document-bundle-" });
  try {
    await bundleModule(fileURLToPath(new URL(entry, ROOT)), `${work}/bundle.js`);
    await Deno.writeTextFile(`${work}/main.js`, script);
    const child = new Deno.Command(DENO, {
      args: ["run", "--no-prompt", "--no-config", `${work}/main.js`],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(input);
    await writer.close();
    const { code, stdout, stderr } = await child.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    return JSON.parse(new TextDecoder().decode(stdout));
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

Deno.test("a bundle embeds PDFium and renders a page with no permission at all", async () => {
  const script = `import { openPdf } from "./bundle.js";
const bytes = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
const pdf = await openPdf(bytes);
const image = pdf.renderPage(1);
const at = (x, y) => Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));
console.log(JSON.stringify({ pages: pdf.pageCount, width: image.width, height: image.height, inside: at(60, 150), outside: at(5, 5) }));
`;
  // A 200x100 pt page with a red box at (10, 10) pt, 50x30 pt: pixels 20..120 x 120..180 at 144 dpi.
  const pdf = await makePdf([{
    width: 200,
    height: 100,
    boxes: [{ x: 10, y: 10, width: 50, height: 30, color: [255, 0, 0] }],
  }]);
  assert.deepEqual(await runBundled("src/document/pdf_document.ts", script, pdf), {
    pages: 1,
    width: 400,
    height: 200,
    inside: [255, 0, 0],
    outside: [255, 255, 255],
  });
});

Deno.test("a bundle of the document entry loads PDFium on the first PDF, offline", async () => {
  const script = `import { openDocumentSource } from "./bundle.js";
const bytes = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
const source = await openDocumentSource(bytes);
console.log(JSON.stringify({ kind: source.kind, raster: source.pages[0].rasterSize }));
source.close();
`;
  const pdf = await makePdf([{ width: 200, height: 100 }]);
  assert.deepEqual(await runBundled("src/document/document_source.ts", script, pdf), {
    kind: "pdf",
    raster: { width: 400, height: 200 },
  });
});
