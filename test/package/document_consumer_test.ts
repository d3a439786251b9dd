// The document entries used from a project outside the checkout: a Deno
// project that maps `@vlmkit/vlmkit/document` and `@vlmkit/vlmkit/doctags` to
// the checkout renders a PDF page with PDFium (resolved from that project, not
// from this repository's config) and assembles recorded DocTags into a
// document whose picture is cropped at its box.
import assert from "node:assert/strict";
import { join } from "node:path";
import { makePdf } from "../document/_pdfs.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DENO = join(ROOT, "node_modules/.bin/deno");

const PROGRAM = `import { openPdf } from "@vlmkit/vlmkit/document";
import { assembleDocument } from "@vlmkit/vlmkit/doctags";
const pdf = await openPdf(await Deno.readFile("doc.pdf"));
const image = pdf.renderPage(1);
pdf.close();
const doctags = "<doctag><picture><loc_25><loc_300><loc_150><loc_450></picture></doctag>";
const doc = assembleDocument([
  { pageNo: 1, doctags, size: { width: image.width, height: image.height }, image },
]);
const crop = doc.pictures[0];
console.log(JSON.stringify({
  raster: [image.width, image.height],
  crop: [crop.size.width, crop.size.height],
  path: crop.path,
  referenced: doc.markdown.includes(crop.path),
}));
`;

Deno.test("outside the checkout: a Deno project renders a PDF and assembles its page through the document entries", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-document-consumer-" });
  try {
    await Deno.writeTextFile(
      join(dir, "deno.json"),
      JSON.stringify({
        imports: {
          "@vlmkit/vlmkit/document": join(ROOT, "src/document/mod.ts"),
          "@vlmkit/vlmkit/doctags": join(ROOT, "plugins/doctags/mod.ts"),
        },
      }),
    );
    await Deno.writeTextFile(join(dir, "main.ts"), PROGRAM);
    // A 200×100 pt page with a red box 50×30 pt at (10, 10) pt from the bottom left: at 144 dpi,
    // pixels 20..120 × 120..180 of a 400×200 raster, which the picture's <loc_*> box covers.
    await Deno.writeFile(
      join(dir, "doc.pdf"),
      await makePdf([{
        width: 200,
        height: 100,
        boxes: [{ x: 10, y: 10, width: 50, height: 30, color: [255, 0, 0] }],
      }]),
    );
    const run = (read: string) =>
      new Deno.Command(DENO, {
        args: ["run", "--no-prompt", read, "main.ts"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
    // From sources PDFium's binary is read from the npm cache: without that permission the
    // error says which flag is missing.
    const denied = await run(`--allow-read=${dir}`);
    assert.notEqual(denied.code, 0);
    assert.match(new TextDecoder().decode(denied.stderr), /cannot load PDFium[\s\S]*--allow-read/);
    const { code, stdout, stderr } = await run("--allow-read");
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const out = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").pop()!);
    assert.deepEqual(out.raster, [400, 200]);
    assert.deepEqual(out.crop, [100, 60]);
    assert.ok(out.referenced, `the Markdown does not reference ${out.path}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
