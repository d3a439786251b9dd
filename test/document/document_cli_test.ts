// `vlm document` batches and bad input, on the tiny committed model (fast; its DocTags are noise).
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runVlm } from "../cli/_vlm.ts";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";
import { encryptedPdf, makePdf } from "./_pdfs.ts";

const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env"];
const MODEL = fileURLToPath(TINY_MODEL);

async function withWork(body: (work: string) => Promise<void>) {
  const work = await Deno.makeTempDir({ prefix: "vlmkit-document-cli-" });
  try {
    await body(work);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

Deno.test("vlm document: a batch converts every good document and reports the bad one", async () => {
  await withWork(async (work) => {
    const one = join(work, "one.pdf");
    const two = join(work, "two.pdf");
    const locked = join(work, "locked.pdf");
    await Deno.writeFile(one, await makePdf([{ width: 30, height: 30 }]));
    await Deno.writeFile(
      two,
      await makePdf([{ width: 30, height: 30 }, { width: 20, height: 40 }]),
    );
    await Deno.writeFile(locked, encryptedPdf());
    const out = join(work, "out");
    const run = await runVlm(PERMISSIONS, [
      "document",
      "--model",
      MODEL,
      ...["--in", one, "--in", locked, "--in", two],
      "--out",
      out,
      "--to",
      "html",
      "--max-new-tokens",
      "4",
      "--concurrency",
      "2",
      "--json",
    ]);
    assert.equal(run.code, 1, run.stderr);
    const { documents, summary } = JSON.parse(run.stdout);
    assert.equal(documents.length, 3);
    assert.equal(documents[1].error.code, "input_invalid");
    assert.match(documents[1].error.message, /encrypted/);
    assert.deepEqual(documents.map((d: { pages: unknown[] }) => d.pages.length), [1, 0, 2]);
    assert.equal(summary.documents, 3);
    assert.equal(summary.failedDocuments, 1);
    assert.equal(summary.pages, 3);
    assert.equal(summary.generated, 3);
    assert.ok(summary.pagesPerSecond > 0);
    for (const name of ["one", "two"]) {
      const html = await Deno.readTextFile(join(out, name, `${name}.html`));
      assert.match(html, /<html/i);
    }
    await assert.rejects(Deno.stat(join(out, "locked")), Deno.errors.NotFound);
  });
});

Deno.test("vlm document: images form one document; bad flags are usage errors", async () => {
  await withWork(async (work) => {
    const png = fileURLToPath(new URL("../fixtures/images/sources/tiny.png", import.meta.url));
    const out = join(work, "out");
    const run = await runVlm(PERMISSIONS, [
      "document",
      "--model",
      MODEL,
      ...["--in", png, "--in", png],
      "--out",
      out,
      "--to",
      "doctags",
      "--max-new-tokens",
      "3",
      "--json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const { documents } = JSON.parse(run.stdout);
    assert.equal(documents.length, 1);
    assert.deepEqual(documents[0].pages.map((p: { pageNo: number }) => p.pageNo), [1, 2]);
    const doctags = await Deno.readTextFile(join(out, "tiny", "tiny.doctags"));
    assert.equal(doctags.split("<page_break>").length, 2);

    for (
      const [args, pattern] of [
        [["--to", "pdf"], /--to pdf is not one of/],
        [["--pages", "x"], /page selection "x" is invalid/],
        [["--dpi", "5"], /--dpi must be a number in \[18, 1440\]/],
      ] as [string[], RegExp][]
    ) {
      const bad = await runVlm(PERMISSIONS, [
        "document",
        "--model",
        MODEL,
        "--in",
        png,
        "--out",
        join(work, "bad"),
        "--json",
        ...args,
      ]);
      assert.notEqual(bad.code, 0);
      assert.match(JSON.parse(bad.stdout).error.message, pattern);
      await assert.rejects(Deno.stat(join(work, "bad")), Deno.errors.NotFound);
    }
  });
});
