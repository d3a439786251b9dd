// `vlm convert --from hf:owner/name` against the local Hub-compatible server:
// the checkpoint pull fetches the configs and the safetensors weights only
// (a sharded index's shards, nothing else the repo holds), and the converted
// folder equals the one converted from the same files on disk (the repo is
// named like the fixture folder, since the spec takes its name from either).
import assert from "node:assert/strict";
import { folderFiles } from "./_folder_files.ts";
import { selectCheckpointFiles } from "../../../src/hub/checkpoint_selection.ts";
import { HubError } from "../../../src/hub/hub_error.ts";
import { convertFromArgs } from "../../../tools/cli/convert_command.ts";
import { type ServedFile, withHub } from "../../hub/_hub_server.ts";

const FIXTURE = new URL("../../fixtures/tiny-smolvlm-checkpoint/", import.meta.url);

async function fixtureFiles(): Promise<ServedFile[]> {
  const files: ServedFile[] = [];
  for await (const entry of Deno.readDir(FIXTURE)) {
    files.push({ path: entry.name, bytes: await Deno.readFile(new URL(entry.name, FIXTURE)) });
  }
  return files;
}

Deno.test("vlm convert --from hf: pulls only configs and safetensors, and converts as from disk", async () => {
  const files = [
    ...await fixtureFiles(),
    // What a real repo also holds, and a checkpoint pull must skip.
    { path: "pytorch_model.bin", bytes: new Uint8Array(4096).fill(7) },
    { path: "onnx/decoder_model_merged.onnx", bytes: new Uint8Array(2048).fill(1) },
    { path: "README.md", bytes: new TextEncoder().encode("# tiny\n") },
  ];
  await withHub({ "acme/tiny-smolvlm-checkpoint": { main: files } }, async (hub, dir) => {
    const saved = { endpoint: Deno.env.get("HF_ENDPOINT"), home: Deno.env.get("HF_HOME") };
    Deno.env.set("HF_ENDPOINT", hub.url);
    Deno.env.set("HF_HOME", `${dir}/hf-home`);
    try {
      await convertFromArgs([
        "--from",
        "hf:acme/tiny-smolvlm-checkpoint@main",
        "--out",
        `${dir}/from-hub`,
      ]);
      await convertFromArgs(["--from", FIXTURE.pathname, "--out", `${dir}/from-disk`]);
    } finally {
      for (const [name, value] of [["HF_ENDPOINT", saved.endpoint], ["HF_HOME", saved.home]]) {
        if (value === undefined) Deno.env.delete(name!);
        else Deno.env.set(name!, value);
      }
    }
    const fetched = new Set(
      hub.requests.filter((r) => r.route === "resolve" && r.method === "GET").map((r) => r.file),
    );
    assert.ok(fetched.has("model.safetensors") && fetched.has("config.json"));
    for (const skipped of ["pytorch_model.bin", "onnx/decoder_model_merged.onnx", "README.md"]) {
      assert.ok(!fetched.has(skipped), `${skipped} was downloaded`);
    }
    const [hubTree, diskTree] = await Promise.all([
      folderFiles(`${dir}/from-hub`),
      folderFiles(`${dir}/from-disk`),
    ]);
    assert.deepEqual([...hubTree.keys()].sort(), [...diskTree.keys()].sort());
    for (const [path, bytes] of diskTree) {
      assert.ok(Buffer.compare(hubTree.get(path)!, bytes) === 0, `${path} differs`);
    }
  });
});

Deno.test("a sharded checkpoint pull takes the index's shards; a shard missing from the repo is named", () => {
  const file = (path: string) => ({ path, size: 1 });
  const listing = [
    "config.json",
    "tokenizer.json",
    "model.safetensors.index.json",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "adapter_model.safetensors",
  ].map(file);
  const index = {
    weight_map: {
      "a.weight": "model-00001-of-00002.safetensors",
      "b.weight": "model-00002-of-00002.safetensors",
      "c.weight": "model-00001-of-00002.safetensors",
    },
  };
  assert.deepEqual(selectCheckpointFiles(listing, index).map((f) => f.path), [
    "config.json",
    "tokenizer.json",
    "model.safetensors.index.json",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
  ]);
  assert.throws(
    () => selectCheckpointFiles(listing.filter((f) => !f.path.startsWith("model-00002")), index),
    (error: unknown) =>
      error instanceof HubError && /model-00002-of-00002\.safetensors/.test(error.message),
  );
  assert.throws(
    () => selectCheckpointFiles([file("config.json"), file("pytorch_model.bin")]),
    (error: unknown) => error instanceof HubError && /safetensors/.test(error.fix ?? ""),
  );
});
