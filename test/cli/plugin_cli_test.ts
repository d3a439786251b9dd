// vlm plugin bundle and vlm task as users run them.
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadModel } from "../../src/runtime/load_model.ts";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";
import { runVlm } from "./_vlm.ts";

const ALL = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-run"];
const IMAGE = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;

Deno.test("cli: plugin bundle writes one ESM file that imports and runs on a model", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "choice.js");
    const entry = new URL("../../plugins/examples/choice/mod.ts", import.meta.url).pathname;
    const result = await runVlm(ALL, ["plugin", "bundle", entry, "--out", out, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const text = await Deno.readTextFile(out);
    // Self-contained: no import statements left (zod and the SDK helpers are inlined).
    assert.doesNotMatch(text, /^\s*import\s/m);
    assert.equal(JSON.parse(result.stdout).bytes, new TextEncoder().encode(text).length);
    const { choice } = await import(new URL(`file://${out}`).href);
    const model = await loadModel(TINY_MODEL, { plugins: [choice({ choices: ["yes", "no"] })] });
    try {
      const answer = await model.task<{ choice: string }>("choice", {
        images: [IMAGE],
        prompt: "Is it red?",
      });
      assert.ok(["yes", "no"].includes(answer.output.choice));
    } finally {
      await model.dispose();
    }
    const missing = await runVlm(ALL, [
      "plugin",
      "bundle",
      join(dir, "nope.ts"),
      "--out",
      join(dir, "x.js"),
      "--json",
    ]);
    assert.equal(missing.code, 1);
    assert.match(JSON.parse(missing.stdout).error.message, /cannot bundle/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["choice.js"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: task runs built-in plugins with options and prints typed output", async () => {
  const model = TINY_MODEL.pathname;
  const caption = await runVlm(ALL, [
    "task",
    "caption",
    "--model",
    model,
    "--image",
    IMAGE,
    "--option",
    "maxNewTokens=6",
    "--option",
    "detail=detailed",
    "--json",
  ]);
  assert.equal(caption.code, 0, caption.stderr);
  const c = JSON.parse(caption.stdout);
  assert.equal(c.task, "caption");
  assert.equal(typeof c.output.caption, "string");
  assert.ok(c.tokenIds.length <= 6);
  const ocrRun = await runVlm(ALL, [
    "task",
    "ocr",
    "--model",
    model,
    "--image",
    IMAGE,
    "--max-new-tokens",
    "5",
    "--json",
  ]);
  assert.equal(ocrRun.code, 0, ocrRun.stderr);
  assert.ok(Array.isArray(JSON.parse(ocrRun.stdout).output.lines));
  const bad = await runVlm(ALL, [
    "task",
    "caption",
    "--model",
    model,
    "--image",
    IMAGE,
    "--option",
    "detail=huge",
    "--json",
  ]);
  assert.equal(bad.code, 1);
  assert.match(JSON.parse(bad.stdout).error.message, /option detail/);
  const unknown = await runVlm(ALL, ["task", "poetry", "--model", model, "--json"]);
  assert.equal(unknown.code, 2);
});

Deno.test("cli: task runs vqa and doctags too", async () => {
  const model = TINY_MODEL.pathname;
  const vqaRun = await runVlm(ALL, [
    "task",
    "vqa",
    "--model",
    model,
    "--image",
    IMAGE,
    "--prompt",
    "What shape is this?",
    "--option",
    "style=short",
    "--max-new-tokens",
    "4",
    "--json",
  ]);
  assert.equal(vqaRun.code, 0, vqaRun.stderr);
  assert.equal(typeof JSON.parse(vqaRun.stdout).output.answer, "string");
  const doctagsRun = await runVlm(ALL, [
    "task",
    "doctags",
    "--model",
    model,
    "--image",
    IMAGE,
    "--max-new-tokens",
    "4",
    "--json",
  ]);
  assert.equal(doctagsRun.code, 0, doctagsRun.stderr);
  const output = JSON.parse(doctagsRun.stdout).output;
  assert.equal(typeof output.markdown, "string");
  assert.ok(Array.isArray(output.issues));
});
