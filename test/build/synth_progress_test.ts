// synthesize reports each module as it builds and encodes it; vlm synth draws that on a
// terminal's stderr and keeps stdout (--json) clean.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type SynthesisProgress, synthesize } from "../../src/build/synthesize.ts";
import { formatSynthProgress } from "../../tools/cli/synth_progress.ts";
import { getPreset } from "../../variants/mod.ts";

Deno.test("synth progress: every module is reported while building and writing, with tensor counts", () => {
  for (const [layout, buildSteps] of [["hf-idefics3", 2], ["modular", 3]] as const) {
    const events: SynthesisProgress[] = [];
    const result = synthesize(getPreset("smolvlm-256m-instruct"), {
      scale: "test",
      layout,
      onProgress: (p) => events.push(p),
    });
    const build = events.filter((e) => e.stage === "build");
    const write = events.filter((e) => e.stage === "write");
    assert.deepEqual(build.map((e) => `${e.index}/${e.total}`), [
      ...Array.from({ length: buildSteps }, (_, i) => `${i + 1}/${buildSteps}`),
    ]);
    assert.deepEqual(write.map((e) => e.module), result.plan.files.map((f) => f.module));
    assert.ok(write.every((e, i) => e.index === i + 1 && e.total === result.plan.files.length));
    // Tensor counts only grow, and reach a positive total.
    for (let i = 1; i < write.length; i++) assert.ok(write[i].tensors > write[i - 1].tensors);
    assert.ok(build[build.length - 1].tensors > 0); // the vision module came first
    assert.match(formatSynthProgress(write[1]), new RegExp(`file 2/${write.length}`));
  }
});

Deno.test("synth progress: on a terminal, vlm synth --json draws the line on stderr only", async () => {
  const script = "/usr/bin/script";
  try {
    await Deno.stat(script);
  } catch {
    return; // no pseudo-terminal helper on this machine
  }
  const dir = await Deno.makeTempDir();
  try {
    const vlm = new URL("../../tools/vlm.ts", import.meta.url).pathname;
    const out = join(dir, "m");
    // stdout to a file, stderr left on script's pseudo-terminal.
    const command = `${Deno.execPath()} run -A ${vlm} synth --variant smolvlm-256m-instruct ` +
      `--scale test --out ${out} --json > ${join(dir, "stdout.json")}`;
    const run = await new Deno.Command(script, {
      args: ["-qec", command, "/dev/null"],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    const terminal = new TextDecoder().decode(run.stdout);
    assert.match(terminal, /synth: building .* \(step 1\/\d+/);
    assert.match(terminal, /synth: encoded decoder_model_merged \(file 3\/3, \d+ tensors\)/);
    const summary = JSON.parse(await Deno.readTextFile(join(dir, "stdout.json")));
    assert.equal(summary.layout, "hf-idefics3"); // stdout holds only the JSON
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
