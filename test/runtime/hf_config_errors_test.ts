import assert from "node:assert/strict";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { loadModel } from "../../src/runtime/load_model.ts";

const FIXTURE = new URL("../fixtures/tiny-idefics3/", import.meta.url);

/** A copy of the fixture's JSON files (no ONNX: the spec is rejected before any session opens). */
type Config = { text_config: Record<string, number>; vision_config: Record<string, number> };

async function folderWith(edit: (config: Config) => void): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-hf-config-" });
  for await (const entry of Deno.readDir(FIXTURE)) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    const text = await Deno.readTextFile(new URL(entry.name, FIXTURE));
    if (entry.name !== "config.json") {
      await Deno.writeTextFile(`${dir}/${entry.name}`, text);
      continue;
    }
    const config = JSON.parse(text);
    edit(config);
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
  }
  return dir;
}

async function loadError(dir: string): Promise<VlmError> {
  try {
    // The dtype is given: with no ONNX file to detect it from, the configs are what is checked.
    await loadModel(dir, { dtype: "fp32" });
  } catch (error) {
    assert.ok(error instanceof VlmError, String(error));
    return error;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  throw new Error("loadModel accepted the folder");
}

Deno.test("hf config: a wrong text_config.hidden_size is reported as config.json keys, not spec fields", async () => {
  // The fixture has hidden_size 48 = 4 heads × head_dim 12.
  const error = await loadError(await folderWith((c) => c.text_config.hidden_size = 64));
  assert.equal(error.code, "model_invalid");
  assert.match(error.message, /config\.json text_config\.hidden_size = 64/);
  assert.match(error.message, /text_config\.num_attention_heads = 4/);
  assert.match(error.message, /text_config\.head_dim = 12/);
  assert.match(error.fix!, /text_config\.hidden_size/);
  assert.match(error.fix!, /config\.json/);
  assert.doesNotMatch(error.fix!, /headDim|decoder\./, "the fix must not use spec field names");
});

Deno.test("hf config: a preprocessor tile size that disagrees with the encoder names both files", async () => {
  const error = await loadError(await folderWith((c) => c.vision_config.image_size *= 2));
  assert.equal(error.code, "model_invalid");
  assert.match(error.message, /preprocessor_config\.json max_image_size\.longest_edge = \d+/);
  assert.match(error.message, /config\.json vision_config\.image_size = \d+/);
  assert.match(error.fix!, /max_image_size\.longest_edge or vision_config\.image_size/);
  assert.match(error.fix!, /preprocessor_config\.json \/ config\.json/);
});
