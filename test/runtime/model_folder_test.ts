// Local model folders hand native sessions a file path (ORT reads the file and
// its external data itself); remote folders never do.
import assert from "node:assert/strict";
import { join } from "node:path";
import { openModelFolder } from "../../src/runtime/model_folder.ts";

Deno.test("model folder: localPath names existing local files only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "onnx"));
    await Deno.writeFile(join(dir, "onnx", "model.onnx"), new Uint8Array([1, 2, 3]));
    const folder = openModelFolder(dir);
    assert.equal(await folder.localPath?.("onnx/model.onnx"), join(dir, "onnx", "model.onnx"));
    assert.equal(await folder.localPath?.("onnx/missing.onnx"), undefined);
    assert.equal(await folder.localPath?.("onnx"), undefined); // a folder is not a model file
    assert.deepEqual(await folder.read("onnx/model.onnx"), new Uint8Array([1, 2, 3]));
    assert.equal(openModelFolder("http://127.0.0.1:9/models/x/").localPath, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
