// vlm eval as users run it: a labels file with relative image paths, a
// predictions file, and agreement with a reference.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runVlm } from "./_vlm.ts";

const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi"];
const MODEL = new URL("../fixtures/tiny-idefics3", import.meta.url).pathname;
const SOURCES = new URL("../fixtures/images/sources/", import.meta.url);

Deno.test("cli: eval scores answers per prompt, writes predictions, and measures agreement", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of ["checker.png", "tiny.png", "grey.png"]) {
      await Deno.copyFile(new URL(name, SOURCES), join(dir, name));
    }
    const items = [
      { image: "checker.png", prompt: "Read the text.", answer: "AB12" },
      { image: "tiny.png", prompt: "What shape is this?", answer: "circle" },
      { image: "grey.png", prompt: "Read the text.", answer: "ZZ9" },
    ];
    const labels = join(dir, "labels.jsonl");
    await Deno.writeTextFile(labels, items.map((i) => JSON.stringify(i)).join("\n") + "\n");
    const predictions = join(dir, "predictions.jsonl");
    const first = await runVlm(PERMS, [
      "eval",
      "--model",
      MODEL,
      "--data",
      labels,
      "--max-new-tokens",
      "6",
      "--predictions",
      predictions,
      "--json",
    ]);
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout);
    assert.equal(report.count, 3);
    assert.deepEqual(Object.keys(report.perPrompt).sort(), [
      "Read the text.",
      "What shape is this?",
    ]);
    assert.equal(report.perPrompt["Read the text."].count, 2);
    assert.ok(report.tokensPerSec > 0);
    const lines = (await Deno.readTextFile(predictions)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(lines.length, 3);
    assert.equal(report.exactMatch, lines.filter((l) => l.exact).length / 3);

    // The model's own answers as labels: everything matches, no character errors.
    await Deno.writeTextFile(
      labels,
      lines.map((l) => JSON.stringify({ image: l.image, prompt: l.prompt, answer: l.prediction }))
        .join("\n"),
    );
    const second = await runVlm(PERMS, [
      "eval",
      "--model",
      MODEL,
      "--data",
      labels,
      "--max-new-tokens",
      "6",
      "--reference",
      predictions,
      "--json",
    ]);
    assert.equal(second.code, 0, second.stderr);
    const again = JSON.parse(second.stdout);
    assert.equal(again.exactMatch, 1);
    assert.equal(again.charErrorRate, 0);
    assert.equal(again.agreement, 1);
    assert.equal(again.compared, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: eval names a bad labels line and a missing file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const labels = join(dir, "labels.jsonl");
    await Deno.writeTextFile(
      labels,
      '{"image":"a.png","prompt":"p","answer":"x"}\n{"image":"a.png"}\n',
    );
    const bad = await runVlm(PERMS, ["eval", "--model", MODEL, "--data", labels, "--json"]);
    assert.equal(bad.code, 1);
    assert.match(JSON.parse(bad.stdout).error.message, /labels\.jsonl:2: field "prompt"/);
    const missing = await runVlm(PERMS, [
      "eval",
      "--model",
      MODEL,
      "--data",
      join(dir, "nope.jsonl"),
      "--json",
    ]);
    assert.equal(missing.code, 1);
    assert.match(JSON.parse(missing.stdout).error.message, /cannot read labels file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
