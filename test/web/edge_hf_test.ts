// loadModel("hf:owner/name") in the edge bundle, which has no Hub client and no cache: the
// repo is read over fetch from the Hub's resolve URLs (HEAD to detect the dtype, GET for the
// files), and a run without network access fails with a typed error saying what to do.
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadModel } from "../../src/runtime/load_model.ts";
import { buildBundle } from "../../tools/cli/bundle_command.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { withHub } from "../hub/_hub_server.ts";
import { runnableRepo } from "../hub/_repos.ts";

const IMAGE = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;
const REQUEST = { prompt: "What is in this image?", maxNewTokens: 4, stopTokenIds: [] };

async function runStandalone(dir: string, script: string, permissions: string[]) {
  await Deno.writeTextFile(join(dir, "main.js"), script);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-lock", "--no-prompt", ...permissions, "main.js"],
    cwd: dir,
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("web: the edge bundle loads hf: sources over fetch, or says to allow the network", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-edge-hf-" });
  try {
    await buildBundle("edge", dir, { minify: true });
    const image = `data:image/png;base64,${
      btoa(String.fromCharCode(...await Deno.readFile(IMAGE)))
    }`;
    await withHub({ "acme/smol": { main: runnableRepo() } }, async (hub) => {
      const script = `import { loadModel } from "./vlmkit.edge.js";
Deno.env.set("HF_ENDPOINT", ${JSON.stringify(hub.url)});
try {
  const model = await loadModel("hf:acme/smol@main");
  const result = await model.generate({ ...${JSON.stringify(REQUEST)}, images: [${
        JSON.stringify(image)
      }] });
  const dtypes = model.plan.files.map((f) => f.dtype);
  await model.dispose();
  console.log(JSON.stringify({ ids: result.tokenIds, dtypes }));
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message, fix: error.fix }));
}
`;
      const host = new URL(hub.url).host;
      const run = await runStandalone(dir, script, [
        `--allow-net=${host}`,
        "--allow-env=HF_ENDPOINT",
      ]);
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout);
      // No dtype given: the repo holds fp32 and q4, and fp32 comes first.
      assert.deepEqual(out.dtypes, ["fp32", "fp32", "fp32"], run.stdout);
      // Only the Hub's file URLs were used (no API listing, no cache).
      assert.ok(hub.requests.length > 0 && hub.requests.every((r) => r.route === "resolve"));
      assert.ok(hub.requests.some((r) => r.method === "HEAD"));

      // The same files, loaded by the SDK from a local folder, give the same ids.
      const local = join(dir, "local");
      await writeFolderAtomically(
        local,
        runnableRepo().filter((f) => !f.path.includes("_q4")),
        false,
      );
      const model = await loadModel(local);
      try {
        assert.deepEqual(out.ids, (await model.generate({ ...REQUEST, images: [IMAGE] })).tokenIds);
      } finally {
        await model.dispose();
      }

      // Without --allow-net: a typed error naming the URL and the permission to grant.
      const denied = await runStandalone(dir, script, ["--allow-env=HF_ENDPOINT"]);
      assert.equal(denied.code, 0, denied.stderr);
      const error = JSON.parse(denied.stdout);
      assert.equal(error.code, "model_invalid");
      assert.match(error.message, /acme\/smol\/resolve\/main\//);
      assert.match(error.fix, /--allow-net/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
