// `vlm bundle --target edge`: one self-contained ES module that runs the tiny model in a
// plain Deno process (no deno.json, no npm resolution) with no permission beyond reading
// the model folder, and generates exactly what the SDK generates.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { basename, join } from "node:path";
import { UsageError } from "../../src/errors/usage_error.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { bundleCommand } from "../../tools/cli/bundle_command.ts";

const ROOT = new URL("../../", import.meta.url);
const MODEL = new URL("test/fixtures/tiny-idefics3/", ROOT).pathname;
const IMAGE = new URL("test/fixtures/images/sources/tiny.png", ROOT).pathname;
const JPEG = new URL("test/fixtures/images/sources/photo_baseline.jpg", ROOT).pathname;
const REQUEST = { prompt: "What is in this image?", maxNewTokens: 6 };

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function deno(args: string[], cwd: string): Promise<Output> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs `script` next to the bundle as a standalone program: no config, no lock, `permissions` only. */
/** Every file under `dir`, as paths relative to it. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const paths: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) paths.push(...await listFiles(dir, path));
    else paths.push(path);
  }
  return paths;
}

async function runStandalone(dir: string, script: string, permissions: string[]): Promise<Output> {
  await Deno.writeTextFile(join(dir, "main.js"), script);
  return await deno(
    ["run", "--no-config", "--no-lock", "--no-prompt", ...permissions, "main.js"],
    dir,
  );
}

Deno.test("web: vlm bundle --target edge writes one self-contained ESM file", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-edge-" });
  try {
    // The command as the CLI runs it (its own process, the CLI's permissions).
    const cli = join(dir, "cli.ts");
    await Deno.writeTextFile(
      cli,
      `import { bundleCommand } from "${new URL("tools/cli/bundle_command.ts", ROOT).href}";\n` +
        "Deno.exit(await bundleCommand.run(Deno.args));\n",
    );
    const built = await deno([
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      "--config",
      new URL("deno.json", ROOT).pathname,
      cli,
      "--out",
      join(dir, "out"),
      "--target",
      "edge",
      "--json",
    ], ROOT.pathname);
    assert.equal(built.code, 0, built.stderr);
    const report = JSON.parse(built.stdout);
    assert.equal(report.target, "edge");
    assert.deepEqual(report.files.map((f: { path: string }) => basename(f.path)), [
      "vlmkit.edge.js",
    ]);
    const bundlePath = report.files[0].path;
    const text = await Deno.readTextFile(bundlePath);
    assert.equal(report.files[0].bytes, (await Deno.stat(bundlePath)).size);
    // Nothing left to resolve: the module graph is the bundle alone (no npm: or node: imports).
    const info = await deno(["info", "--json", "--no-config", "--no-lock", bundlePath], dir);
    assert.equal(info.code, 0, info.stderr);
    const graph = JSON.parse(info.stdout);
    assert.deepEqual(graph.modules.map((m: { specifier: string }) => m.specifier), [
      new URL(`file://${bundlePath}`).href,
    ]);
    assert.deepEqual(graph.npmPackages ?? {}, {});
    assert.ok(!text.includes("onnxruntime_binding"), "the native addon loader is in the bundle");
    await Deno.remove(cli);

    await t.step("runs a model served from memory with no permissions at all", async () => {
      // Every file of the model folder rides inside the script: with no --allow-read and no
      // --allow-net, only the bundle's embedded WebAssembly can start ONNX Runtime.
      const files: Record<string, string> = {};
      for (const path of await listFiles(MODEL)) {
        if (path.startsWith("reference/")) continue; // PyTorch fixtures, not part of the model
        files[path] = Buffer.from(await Deno.readFile(join(MODEL, path))).toString("base64");
      }
      const image = btoa(String.fromCharCode(...await Deno.readFile(IMAGE)));
      const run = await runStandalone(
        join(dir, "out"),
        `import * as vlm from "./vlmkit.edge.js";
const files = ${JSON.stringify(files)};
const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const folder = {
  location: "memory:tiny-idefics3",
  read: (path) => Promise.resolve(files[path] === undefined ? undefined : bytes(files[path])),
};
const model = await vlm.loadModel(folder);
const result = await model.generate({ ...${JSON.stringify(REQUEST)}, images: [bytes(${
          JSON.stringify(image)
        })] });
await model.dispose();
let native;
try { await vlm.loadModel(folder, { backend: "native" }); } catch (error) { native = error.code; }
console.log(JSON.stringify({ backend: model.backend, ids: result.tokenIds, native,
  exports: ["loadModel", "createServerHandler", "countSequence"].filter((n) => n in vlm) }));
`,
        [],
      );
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout);
      const model = await loadModel(MODEL);
      try {
        const expected = await model.generate({ ...REQUEST, images: [IMAGE] });
        assert.deepEqual(out, {
          backend: "wasm",
          ids: expected.tokenIds,
          native: "usage",
          exports: ["loadModel", "createServerHandler", "countSequence"],
        });
      } finally {
        await model.dispose();
      }
    });

    await t.step("streams the same tokens as the SDK, reading only the model folder", async () => {
      const image = `data:image/png;base64,${
        btoa(String.fromCharCode(...await Deno.readFile(IMAGE)))
      }`;
      const run = await runStandalone(
        join(dir, "out"),
        `import { loadModel } from "./vlmkit.edge.js";
const model = await loadModel(${JSON.stringify(MODEL)});
const stream = model.stream({ ...${JSON.stringify(REQUEST)}, images: [${JSON.stringify(image)}] });
const deltas = [];
for await (const delta of stream) deltas.push(delta);
const result = await stream.result;
await model.dispose();
console.log(JSON.stringify({ deltas, text: result.text, ids: result.tokenIds, timings: result.timings }));
`,
        [`--allow-read=${MODEL}`],
      );
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout);
      assert.equal(out.deltas.join(""), out.text);
      assert.ok(out.ids.length > 0 && out.ids.length <= REQUEST.maxNewTokens);
      assert.ok(out.timings.ttftMs > 0 && out.timings.loadMs > 0);

      const model = await loadModel(MODEL);
      try {
        const expected = await model.generate({ ...REQUEST, images: [IMAGE] });
        assert.deepEqual(out.ids, expected.tokenIds);
        assert.equal(out.text, expected.text);
      } finally {
        await model.dispose();
      }
    });

    await t.step(
      "decodes JPEGs with the embedded decoder, reading only the model folder",
      async () => {
        // The sources read mozjpeg_dec.wasm from the npm package; the bundle must not need to.
        const image = `data:image/jpeg;base64,${
          btoa(String.fromCharCode(...await Deno.readFile(JPEG)))
        }`;
        const run = await runStandalone(
          join(dir, "out"),
          `import { loadModel } from "./vlmkit.edge.js";
const model = await loadModel(${JSON.stringify(MODEL)});
const result = await model.generate({ ...${JSON.stringify(REQUEST)}, images: [${
            JSON.stringify(image)
          }] });
await model.dispose();
console.log(JSON.stringify(result.tokenIds));
`,
          [`--allow-read=${MODEL}`],
        );
        assert.equal(run.code, 0, run.stderr);
        const model = await loadModel(MODEL);
        try {
          const expected = await model.generate({ ...REQUEST, images: [JPEG] });
          assert.deepEqual(JSON.parse(run.stdout), expected.tokenIds);
        } finally {
          await model.dispose();
        }
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("web: vlm bundle rejects an unknown target and a missing --out", async () => {
  const failure = async (args: string[]) => {
    try {
      await bundleCommand.run(args);
    } catch (error) {
      assert.ok(error instanceof UsageError);
      return error.message;
    }
    assert.fail(`vlm bundle ${args.join(" ")} succeeded`);
  };
  assert.match(await failure(["--out", "x", "--target", "node"]), /unknown target "node"/);
  assert.match(await failure(["--target", "edge"]), /--out is required/);
  assert.match(await failure(["--out", "x", "extra"]), /unexpected argument "extra"/);
});
