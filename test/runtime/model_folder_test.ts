// Local model folders hand native sessions a file path (ORT reads the file and
// its external data itself); remote folders never do.
import assert from "node:assert/strict";
import { join } from "node:path";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { type ModelFolder, openModelFolder } from "../../src/runtime/model_folder.ts";

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

Deno.test("model folder: loadModel takes a host's folder object serving bytes from memory", async () => {
  const shipped = new URL("../../models/tiny-smolvlm/", import.meta.url);
  const files = new Map<string, Uint8Array>();
  for (const dir of ["", "onnx/"]) {
    for (const entry of Deno.readDirSync(new URL(dir, shipped))) {
      if (entry.isFile) {
        files.set(dir + entry.name, Deno.readFileSync(new URL(dir + entry.name, shipped)));
      }
    }
  }
  const reads: string[] = [];
  const folder: ModelFolder = {
    location: "memory:tiny-smolvlm",
    read(path) {
      reads.push(path);
      return Promise.resolve(files.get(path));
    },
  };
  const example = JSON.parse(
    Deno.readTextFileSync(new URL("examples/labels.jsonl", shipped)).split("\n")[1],
  );
  const image = Deno.readFileSync(new URL(`examples/${example.image}`, shipped));
  const model = await loadModel(folder, { maxPixels: 1_000_000 });
  try {
    const result = await model.generate({
      prompt: example.prompt,
      images: [image],
      maxNewTokens: 8,
    });
    assert.equal(result.text.trim(), example.answer);
  } finally {
    await model.dispose();
  }
  assert.ok(reads.includes("onnx/decoder_model_merged.onnx") && reads.includes("config.json"));

  // A folder object missing a file is reported with the object's location.
  files.delete("tokenizer.json");
  await assert.rejects(
    loadModel(folder),
    (e: unknown) => e instanceof VlmError && /memory:tiny-smolvlm/.test(e.message),
  );
});
