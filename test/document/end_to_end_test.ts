// A synthesized SmolDocling at test scale (random weights, so the DocTags are noise): the
// CLI and the library over a real model, the loop guard and the token cap, --resume.
import assert from "node:assert/strict";
import { join } from "node:path";
import { convertDocument } from "../../src/document/convert_document.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { runVlm } from "../cli/_vlm.ts";
import { encryptedPdf, makePdf } from "./_pdfs.ts";

const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi"];
const CAP = 400;
const BLACK: [number, number, number] = [0, 0, 0];

/**
 * Three small pages (80x80 pixels at 144 dpi, so the test model runs fast). With the seeded
 * test weights the first page falls into a one-token loop and the second runs to the cap.
 */
function threePages() {
  return makePdf([
    { width: 40, height: 40, boxes: [{ x: 5, y: 5, width: 10, height: 10, color: BLACK }] },
    { width: 40, height: 40 },
    { width: 40, height: 40, boxes: [{ x: 20, y: 20, width: 15, height: 5, color: BLACK }] },
  ]);
}

interface CliPage {
  pageNo: number;
  status: string;
  resumed: boolean;
  tokens: number;
}

Deno.test("end to end: vlm document on a synthesized SmolDocling", async (t) => {
  const work = await Deno.makeTempDir({ prefix: "vlmkit-document-" });
  try {
    const model = join(work, "model");
    const synth = await runVlm(PERMISSIONS, [
      "synth",
      "--variant",
      "variants/smoldocling-256m.json",
      "--scale",
      "test",
      "--out",
      model,
      "--json",
    ]);
    assert.equal(synth.code, 0, synth.stderr);
    const pdf = join(work, "three.pdf");
    await Deno.writeFile(pdf, await threePages());
    const out = join(work, "out");
    let firstRun: CliPage[] = [];
    const convert = (...extra: string[]) =>
      runVlm(PERMISSIONS, [
        "document",
        "--model",
        model,
        "--in",
        pdf,
        "--out",
        out,
        "--max-new-tokens",
        String(CAP),
        "--backend",
        "native",
        "--json",
        ...extra,
      ]);

    await t.step("a 3-page PDF gives 3 page results; the cap and the loop guard hold", async () => {
      const run = await convert();
      assert.equal(run.code, 0, run.stderr);
      const { documents, summary } = JSON.parse(run.stdout);
      const pages: CliPage[] = documents[0].pages;
      firstRun = pages;
      assert.deepEqual(pages.map((p) => p.pageNo), [1, 2, 3]);
      assert.equal(summary.generated, 3);
      for (const page of pages) {
        assert.ok(page.tokens <= CAP, `page ${page.pageNo}: ${page.tokens}`);
      }
      const looped = pages.filter((p) => p.status === "looped");
      assert.ok(looped.length > 0, JSON.stringify(pages));
      // The guard ended the loop well before the cap.
      for (const page of looped) assert.ok(page.tokens < CAP);
      assert.ok(pages.some((p) => p.status === "capped" && p.tokens === CAP));
      for (const pageNo of [1, 2, 3]) {
        const name = `page-000${pageNo}`;
        const doctags = await Deno.readTextFile(join(out, "three", "pages", `${name}.doctags`));
        const meta = JSON.parse(
          await Deno.readTextFile(join(out, "three", "pages", `${name}.json`)),
        );
        assert.equal(meta.pageNo, pageNo);
        assert.deepEqual(meta.size, { width: 40, height: 40 });
        assert.deepEqual(meta.raster, { width: 80, height: 80 });
        assert.ok(doctags.length > 0);
      }
      const markdown = await Deno.readTextFile(join(out, "three", "three.md"));
      assert.ok(markdown.length > 0);
      // Nothing temporary is left behind.
      for await (const entry of Deno.readDir(join(out, "three", "pages"))) {
        assert.doesNotMatch(entry.name, /\.tmp-/);
      }
    });

    await t.step("--resume converts only the missing page", async () => {
      const pages = join(out, "three", "pages");
      const kept = await Deno.readTextFile(join(pages, "page-0001.doctags"));
      await Deno.remove(join(pages, "page-0002.doctags"));
      const run = await convert("--resume", "--to", "doctags");
      assert.equal(run.code, 0, run.stderr);
      const { documents, summary } = JSON.parse(run.stdout);
      assert.deepEqual(
        documents[0].pages.map((p: CliPage) => [p.pageNo, p.resumed]),
        [[1, true], [2, false], [3, true]],
      );
      assert.equal(summary.generated, 1);
      assert.equal(summary.resumed, 2);
      // Resumed pages keep the status they ended with (the first page looped).
      assert.deepEqual(
        documents[0].pages.map((p: CliPage) => p.status),
        firstRun.map((p) => p.status),
      );
      const all = await Deno.readTextFile(join(out, "three", "three.doctags"));
      assert.equal(all.split("<page_break>").length, 3);
      assert.ok(all.includes(kept.replace(/^<doctag>|<\/doctag>$/g, "").slice(0, 200)));
      assert.ok(await Deno.stat(join(pages, "page-0002.doctags")));
    });

    await t.step("the library generates once per missing page", async () => {
      const loaded = await loadModel(model, { backend: "native" });
      try {
        let generations = 0;
        const counting = {
          plan: loaded.plan,
          tokenizer: loaded.tokenizer,
          generate: (request: Parameters<typeof loaded.generate>[0]) => {
            generations++;
            return loaded.generate(request);
          },
        };
        const conversion = await convertDocument(counting, await Deno.readFile(pdf), {
          maxNewTokens: 24,
          completed: new Map([[1, "<doctag></doctag>"], [3, "<doctag></doctag>"]]),
        });
        const { pages } = await conversion.result();
        assert.equal(generations, 1);
        assert.deepEqual(pages.map((p) => [p.pageNo, p.resumed]), [[1, true], [2, false], [
          3,
          true,
        ]]);
        assert.equal(pages[1].tokens, 24);
      } finally {
        await loaded.dispose();
      }
    });

    await t.step("an encrypted PDF exits 1 with a typed error and writes nothing", async () => {
      const locked = join(work, "locked.pdf");
      await Deno.writeFile(locked, encryptedPdf());
      const target = join(work, "locked-out");
      const run = await runVlm(PERMISSIONS, [
        "document",
        "--model",
        model,
        "--in",
        locked,
        "--out",
        target,
        "--backend",
        "native",
        "--json",
      ]);
      assert.equal(run.code, 1, run.stderr);
      const { error } = JSON.parse(run.stdout);
      assert.equal(error.code, "input_invalid");
      assert.match(error.message, /encrypted with a password/);
      await assert.rejects(Deno.stat(target), Deno.errors.NotFound);
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
