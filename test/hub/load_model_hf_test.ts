// loadModel("hf:owner/name@revision"): the Hub source is pulled (only the
// requested dtype) into the cache HF_HOME names, then loaded like a folder.
import assert from "node:assert/strict";
import { loadModel } from "../../src/runtime/load_model.ts";
import { listTree, runnableRepo } from "./_repos.ts";
import { withHub } from "./_hub_server.ts";

Deno.test("loadModel: hf: sources pull the requested dtype from HF_ENDPOINT into HF_HOME and run", async () => {
  await withHub({ "acme/smol": { main: runnableRepo() } }, async (hub, dir) => {
    Deno.env.set("HF_ENDPOINT", hub.url);
    Deno.env.set("HF_HOME", dir);
    try {
      const model = await loadModel("hf:acme/smol@main", { dtype: "q4", backend: "native" });
      try {
        const out = await model.generate({
          prompt: "Hi",
          images: [new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname],
          maxNewTokens: 2,
          stopTokenIds: [],
        });
        assert.equal(out.tokenIds.length, 2);
      } finally {
        await model.dispose();
      }
      const onnx = (await listTree(dir)).filter((path) => path.endsWith(".onnx"));
      assert.ok(
        onnx.length === 3 && onnx.every((path) => path.endsWith("_q4.onnx")),
        onnx.join("\n"),
      );
    } finally {
      Deno.env.delete("HF_ENDPOINT");
      Deno.env.delete("HF_HOME");
    }
  });
});
