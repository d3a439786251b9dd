// vlm plugin bundle, vlm task and vlm serve as users run them, plugins from outside included.
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadModel } from "../../src/runtime/load_model.ts";
import { TINY_MODEL } from "../runtime/_tiny_model.ts";
import { runVlm } from "./_vlm.ts";

const ALL = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-run"];
const IMAGE = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const SHIPPED_MODEL = join(ROOT, "models/tiny-smolvlm");
const EXAMPLE_IMAGE = join(SHIPPED_MODEL, "examples/000000.png");
const GUIDE = new URL("../../plugins/README.md", import.meta.url);
const SHOUT = new URL("../../plugins/examples/shout/", import.meta.url);

/** The guide's plugin folder copied outside the checkout, its deno.json linked to this checkout. */
async function outsidePluginFolder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "my-plugin-" });
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", SHOUT)));
  config.links = [ROOT];
  await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config, null, 2));
  await Deno.copyFile(new URL("shout.ts", SHOUT), join(dir, "shout.ts"));
  return dir;
}

/** Starts `vlm serve args` and returns its URL once it listens; `stop` ends that process. */
async function startServe(args: string[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...ALL,
      "--allow-net",
      join(ROOT, "tools/vlm.ts"),
      "serve",
      "--port",
      "0",
      ...args,
    ],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`vlm serve exited: ${seen}`);
    seen += value;
    const match = /(http:\/\/[\d.]+:\d+)/.exec(seen);
    if (match) {
      return {
        url: match[1],
        stop: async () => {
          child.kill("SIGTERM");
          await reader.cancel();
          await child.status;
        },
      };
    }
  }
}

function dataUrl(bytes: Uint8Array, type = "image/png"): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:${type};base64,${btoa(binary)}`;
}

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

Deno.test("cli: the guide's plugin, in a folder outside the checkout, bundles small and runs through vlm task and vlm serve", async () => {
  // The guide shows the example's files verbatim.
  const guide = await Deno.readTextFile(GUIDE);
  assert.ok(guide.includes(await Deno.readTextFile(new URL("shout.ts", SHOUT))));
  const dir = await outsidePluginFolder();
  try {
    const bundle = join(dir, "dist/shout.js");
    const built = await runVlm(ALL, [
      "plugin",
      "bundle",
      join(dir, "shout.ts"),
      "--out",
      bundle,
      "--json",
    ]);
    assert.equal(built.code, 0, built.stderr);
    const report = JSON.parse(built.stdout);
    assert.ok(report.bytes < 100_000, `the guide's plugin bundles to ${report.bytes} bytes`);
    assert.doesNotMatch(await Deno.readTextFile(bundle), /^\s*import\s/m);

    const run = async (file: string) => {
      const result = await runVlm(ALL, [
        "task",
        "--plugin",
        file,
        "shout",
        "--model",
        SHIPPED_MODEL,
        "--image",
        EXAMPLE_IMAGE,
        "--option",
        "times=2",
        "--json",
      ]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout);
    };
    const fromBundle = await run(bundle);
    assert.equal(fromBundle.task, "shout");
    assert.equal(fromBundle.output.text, `${fromBundle.text.trim().toUpperCase()}!!`);
    // The .ts source runs too (its vlmkit/plugin import resolves to this vlmkit), to the same result.
    assert.deepEqual((await run(join(dir, "shout.ts"))).output, fromBundle.output);

    const server = await startServe(["--model", SHIPPED_MODEL, "--plugin", bundle]);
    try {
      const health = await (await fetch(`${server.url}/healthz`)).json();
      assert.deepEqual(health.tasks, ["shout"]);
      const response = await fetch(`${server.url}/v1/tasks/shout`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ images: [dataUrl(await Deno.readFile(EXAMPLE_IMAGE))] }),
      });
      assert.equal(response.status, 200);
      const served = await response.json();
      // The factory is called without options: one exclamation mark, the same greedy text.
      assert.equal(served.output.text, `${fromBundle.text.trim().toUpperCase()}!`);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: a plugin file that does not export a valid plugin is refused, naming the file and what is missing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bad-plugin-" });
  try {
    const file = join(dir, "broken.js");
    await Deno.writeTextFile(file, `export const broken = { name: "broken", hooks: {} };\n`);
    const result = await runVlm(ALL, [
      "task",
      "--plugin",
      file,
      "broken",
      "--model",
      SHIPPED_MODEL,
      "--json",
    ]);
    assert.equal(result.code, 1);
    const error = JSON.parse(result.stdout).error;
    assert.equal(error.code, "plugin_failed");
    assert.match(error.message, new RegExp(`${file}: export broken is not a plugin`));
    assert.match(error.message, /maxNewTokens .* missing; output .* missing/);
    assert.match(error.fix, /TaskPlugin/);

    const missing = await runVlm(ALL, [
      "task",
      "--plugin",
      join(dir, "nope.js"),
      "x",
      "--model",
      SHIPPED_MODEL,
      "--json",
    ]);
    assert.equal(missing.code, 1);
    assert.match(JSON.parse(missing.stdout).error.message, /nope\.js does not exist/);

    // vlm serve takes a factory without options; one that needs them is named with the fix.
    const needy = join(dir, "needy.js");
    await Deno.writeTextFile(
      needy,
      `export function needy(o) { if (!o) throw new Error("choices are required"); }\n`,
    );
    const serve = await runVlm([...ALL, "--allow-net"], [
      "serve",
      "--model",
      SHIPPED_MODEL,
      "--plugin",
      needy,
      "--port",
      "0",
      "--json",
    ]);
    assert.equal(serve.code, 1);
    const serveError = JSON.parse(serve.stdout).error;
    assert.match(
      serveError.message,
      /factory needy\(\) fails without options: choices are required/,
    );
    assert.match(serveError.fix, /export const mine = needy\(\{\.\.\.\}\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: vlm task ocr fits the shipped model's context with its defaults", async () => {
  // 512 new tokens by default, a 512-token context: the limit shrinks to the room left.
  const defaults = await runVlm(ALL, [
    "task",
    "ocr",
    "--model",
    SHIPPED_MODEL,
    "--image",
    EXAMPLE_IMAGE,
    "--json",
  ]);
  assert.equal(defaults.code, 0, defaults.stderr);
  const result = JSON.parse(defaults.stdout);
  assert.ok(Array.isArray(result.output.lines));
  assert.ok(result.tokenIds.length >= 1);
  // An explicit limit that cannot fit fails, with fixes a task caller can apply (ocr forces split).
  const tooMany = await runVlm(ALL, [
    "task",
    "ocr",
    "--model",
    SHIPPED_MODEL,
    "--image",
    EXAMPLE_IMAGE,
    "--max-new-tokens",
    "500",
    "--json",
  ]);
  assert.equal(tooMany.code, 1);
  const error = JSON.parse(tooMany.stdout).error;
  assert.equal(error.code, "budget_unsatisfiable");
  assert.match(error.message, /^task "ocr": /);
  assert.doesNotMatch(error.fix, /split/);
  assert.match(error.fix, /lower maxNewTokens, or leave it out/);
});
