// `vlm pull` run in-process (the command object the CLI dispatches to):
// --json output, progress lines on a non-terminal stderr, usage errors.
import assert from "node:assert/strict";
import { UsageError } from "../../src/errors/usage_error.ts";
import type { PullProgress } from "../../src/hub/progress.ts";
import {
  formatFileLine,
  formatProgressBar,
  progressReporter,
  pullCommand,
} from "../../tools/cli/pull_command.ts";
import { commitOf, withHub } from "./_hub_server.ts";
import { standInRepo } from "./_repos.ts";

const REPO = "acme/smol";

/** Runs the command with console.log/error captured. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => out.push(parts.join(" "));
  console.error = (...parts: unknown[]) => err.push(parts.join(" "));
  try {
    const code = await pullCommand.run(args);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("vlm pull --json prints {repo, revision, commit, path, files, bytes}", async () => {
  await withHub({ [REPO]: { main: standInRepo(), v1: standInRepo(2) } }, async (hub, dir) => {
    const args = [REPO, "--hub-url", hub.url, "--cache", dir, "--dtype", "q4", "--revision", "v1"];
    const { code, stdout, stderr } = await run([...args, "--json"]);
    assert.equal(code, 0);
    const summary = JSON.parse(stdout);
    assert.equal(summary.repo, REPO);
    assert.equal(summary.revision, "v1");
    assert.equal(summary.commit, commitOf(REPO, "v1"));
    assert.ok(summary.path.startsWith(dir) && summary.path.endsWith(summary.commit));
    assert.ok(summary.files.some((f: { path: string }) => f.path.endsWith("_q4.onnx")));
    assert.ok(!summary.files.some((f: { path: string }) => f.path === "onnx/vision_encoder.onnx"));
    assert.equal(
      summary.bytes,
      summary.files.reduce((sum: number, f: { bytes: number }) => sum + f.bytes, 0),
    );
    if (!Deno.stderr.isTerminal()) {
      // Not a terminal: one progress line per file, the last at 100%.
      const lines = stderr.split("\n");
      assert.equal(lines.length, summary.files.length);
      assert.match(lines.at(-1)!, /^(\d+)\/\1 .*\(100%\)$/);
    }

    // Without --json: just the folder on stdout, for `vlm run --model "$(vlm pull …)"`.
    const plain = await run(args);
    assert.equal(plain.stdout, summary.path);
    assert.match(plain.stderr, /acme\/smol@v1 .*0 downloaded/);
  });
});

Deno.test("vlm pull: usage errors for a missing repo, a bad dtype or hub URL", async () => {
  await assert.rejects(() => run([]), UsageError);
  await assert.rejects(() => run(["a/b", "c/d"]), UsageError);
  await assert.rejects(() => run(["a/b", "--dtype", "q5"]), /unknown dtype "q5"/);
  await assert.rejects(() => run(["a/b", "--hub-url", "ftp://x"]), /not an http\(s\) URL/);
  await assert.rejects(() => run(["a/b", "--bogus"]), UsageError);
});

Deno.test("vlm pull progress formatting: bar width, percentage, truncation", () => {
  const progress: PullProgress = {
    file: "onnx/decoder_model_merged_q4.onnx",
    fileBytes: 500,
    fileTotal: 1000,
    bytes: 1500,
    total: 6000,
    filesDone: 3,
    fileCount: 9,
  };
  const bar = formatProgressBar(progress);
  assert.ok(
    bar.startsWith(`[${"#".repeat(6)}${"-".repeat(18)}]  25%  1.5 kB / 6.0 kB  3/9  onnx/`),
    bar,
  );
  assert.equal(formatProgressBar(progress, 30).length, 30);
  assert.equal(formatFileLine(progress), "3/9  onnx/decoder_model_merged_q4.onnx  1.0 kB  (25%)");
});

Deno.test("vlm pull progress without a terminal: one line per finished file", () => {
  const lines: string[] = [];
  const { error } = console;
  console.error = (line: string) => lines.push(line);
  try {
    const reporter = progressReporter(false);
    const base = { total: 300, fileCount: 2, fileTotal: 100 };
    reporter.report({ ...base, file: "a", fileBytes: 50, bytes: 50, filesDone: 0 });
    reporter.report({ ...base, file: "a", fileBytes: 100, bytes: 100, filesDone: 1 });
    reporter.report({
      ...base,
      file: "b",
      fileTotal: 200,
      fileBytes: 200,
      bytes: 300,
      filesDone: 2,
    });
    reporter.end();
  } finally {
    console.error = error;
  }
  assert.deepEqual(lines, ["1/2  a  100 B  (33%)", "2/2  b  200 B  (100%)"]);
});
