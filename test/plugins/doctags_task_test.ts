// The doctags task on a model, the loop guard as a logits processor, and
// vlm doctags on the docling-core conformance vectors.
import assert from "node:assert/strict";
import { join } from "node:path";
import { doctags, DOCTAGS_PROMPTS } from "../../plugins/doctags/mod.ts";
import { synthesize } from "../../src/build/synthesize.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { getPreset } from "../../variants/mod.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { runVlm } from "../cli/_vlm.ts";

const CONFORMANCE = new URL("../fixtures/conformance/doctags/", import.meta.url);
const IMAGE = new URL("../fixtures/images/sources/text_lines.png", import.meta.url).pathname;

Deno.test("doctags task: runs on a synthesized SmolDocling with its prompt, special tokens kept, typed result", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const folder = join(dir, "smoldocling");
    await writeFolderAtomically(
      folder,
      synthesize(getPreset("smoldocling-256m"), { scale: "test" }).files,
      false,
    );
    const model = await loadModel(folder, {
      backend: "native",
      plugins: [doctags({ mode: "table", maxNewTokens: 6 })],
    });
    try {
      const plugin = doctags({ mode: "table" });
      const context = { plan: model.plan, tokenizer: model.tokenizer };
      const prompt = plugin.hooks.prompt!({ images: [IMAGE] }, context);
      const inputs = await model.prepareInputs({
        messages: prompt.messages,
        images: prompt.images,
      });
      assert.match(
        model.tokenizer.decode(inputs.inputIds, false),
        /Convert table to OTSL\.<end_of_utterance>\nAssistant:$/,
      );
      assert.equal(plugin.hooks.preprocess!({ maxNewTokens: 1 }, context).skipSpecialTokens, false);
      assert.deepEqual(plugin.hooks.stop!(context), { strings: ["</doctag>"] });

      const result = await model.task<{ doctags: string; markdown: string; issues: unknown[] }>(
        "doctags",
        {
          images: [IMAGE],
        },
      );
      assert.equal(result.output.doctags, result.text);
      assert.equal(typeof result.output.markdown, "string");
      assert.ok(Array.isArray(result.output.issues));
    } finally {
      await model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(DOCTAGS_PROMPTS.page, "Convert this page to docling.");
});

Deno.test("doctags task: the loop guard lets only EOS through once the output repeats", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const folder = join(dir, "smoldocling");
    await writeFolderAtomically(
      folder,
      synthesize(getPreset("smoldocling-256m"), { scale: "test" }).files,
      false,
    );
    const model = await loadModel(folder, { backend: "native" });
    try {
      const context = { plan: model.plan, tokenizer: model.tokenizer };
      const processor = doctags().hooks.logitsProcessor!(context);
      const eos = model.plan.spec.tokens.eosIds[0];
      const fresh = () => new Float32Array(model.plan.spec.decoder.vocab).fill(1);
      // A varied prefix: no loop, logits untouched.
      const varied = Array.from({ length: 64 }, (_, i) => 300 + i);
      const a = fresh();
      processor(a, varied);
      assert.ok(a.every((v) => v === 1));
      // The same 8-token unit 40 times (320 tokens): looping, so everything but EOS is banned.
      const unit = [300, 301, 302, 303, 304, 305, 306, 307];
      const looping = Array.from({ length: 40 }, () => unit).flat();
      const b = fresh();
      processor(b, looping);
      assert.equal(b[eos], 1);
      assert.equal(b.filter((v) => v === 1).length, model.plan.spec.tokens.eosIds.length);
    } finally {
      await model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "cli: vlm doctags --compat docling reproduces docling-core's Markdown on every non-crash vector",
  async fn() {
    const manifest = JSON.parse(await Deno.readTextFile(new URL("manifest.json", CONFORMANCE)));
    const cases = (manifest.cases ?? manifest) as { id: string; folder?: string; dir?: string }[];
    let compared = 0;
    for (const folder of ["upstream", "edge"]) {
      for (const entry of Deno.readDirSync(new URL(folder, CONFORMANCE))) {
        if (!entry.name.endsWith(".dt")) continue;
        const id = entry.name.slice(0, -3);
        const base = new URL(`${folder}/${id}`, CONFORMANCE).pathname;
        const expectedMd = await Deno.readTextFile(`${base}.expected.md`).catch(() => undefined);
        if (expectedMd === undefined) continue; // a case where the reference crashed
        const md = await runVlm(["--allow-read", "--allow-env"], [
          "doctags",
          "--in",
          `${base}.dt`,
          "--compat",
          "docling",
        ]);
        assert.equal(md.code, 0, md.stderr);
        assert.equal(md.stdout, expectedMd, `${folder}/${id}.md`);
        compared++;
      }
    }
    assert.equal(compared, 26);
    assert.ok(cases.length >= 28);
  },
});
