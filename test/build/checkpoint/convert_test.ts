// `vlm convert` end to end on checkpoints written from a seeded synthesis:
// converting them back gives the synthesized folder byte for byte (the name
// map, the transposes and the sharded reader are exact); composition, prefix
// and every bad-input case leave nothing in --out.
import assert from "node:assert/strict";
import { folderFiles } from "./_folder_files.ts";
import { synthesize } from "../../../src/build/synthesize.ts";
import { scaledSpec } from "../../../src/build/test_scale.ts";
import { WeightFactory } from "../../../src/build/seeded_weights.ts";
import { VlmError } from "../../../src/errors/vlm_error.ts";
import type { VariantSpec } from "../../../src/spec/types.ts";
import { getPreset } from "../../../variants/mod.ts";
import { convertFromArgs, parseWeightSourceArg } from "../../../tools/cli/convert_command.ts";
import { encodeSafetensors } from "../../../src/build/checkpoint/safetensors_header.ts";
import {
  checkpointTensors,
  toEntries,
  writeCheckpoint,
} from "../../../tools/bench/seeded_checkpoint.ts";

const spec: VariantSpec = scaledSpec(getPreset("smolvlm-256m-instruct"), "test");
const seeded = synthesize(spec, { seed: 0 });
const tensors = checkpointTensors(seeded);
// `vlm convert` streams, so its folders always keep weights in `<file>.onnx_data`.
const seededFiles = synthesize(spec, { seed: 0, externalData: "always" }).files;

async function workspace(): Promise<{ dir: string; variant: string; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-convert-test-" });
  const variant = `${dir}/variant.json`;
  await Deno.writeTextFile(variant, JSON.stringify(spec));
  return { dir, variant, out: `${dir}/out` };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("an F32 checkpoint of seeded weights, sharded, converts back to the synthesized folder byte for byte", async () => {
  const { dir, variant, out } = await workspace();
  try {
    assert.ok(tensors.has("model.connector.modality_projection.proj.weight"));
    // A tied head is absent, as transformers saves it; this preset unties it.
    assert.equal(tensors.has("lm_head.weight"), !spec.decoder.tiedEmbeddings);
    await writeCheckpoint(`${dir}/ckpt`, toEntries(tensors), 3);
    const summary = await convertFromArgs([
      "--from",
      `${dir}/ckpt`,
      "--variant",
      variant,
      "--out",
      out,
    ]);
    assert.equal(summary.tensors, tensors.size);
    const written = await folderFiles(out);
    assert.deepEqual([...written.keys()].sort(), seededFiles.map((f) => f.path).sort());
    for (const file of seededFiles) {
      assert.ok(
        Buffer.compare(written.get(file.path)!, file.bytes) === 0,
        `${file.path} differs from the synthesized one`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--prefix reads a model nested in a bigger checkpoint; --projector-from seed:N seeds the connector", async () => {
  const { dir, variant, out } = await workspace();
  try {
    const entries = toEntries(tensors, "F32", "policy.vlm.");
    entries.push({
      name: "policy.action_head.weight",
      dtype: "F32",
      shape: [1],
      bytes: new Uint8Array(4),
    });
    await writeCheckpoint(`${dir}/ckpt`, entries);
    await convertFromArgs([
      "--from",
      `${dir}/ckpt`,
      "--variant",
      variant,
      "--out",
      out,
      "--prefix",
      "policy.vlm.",
      "--projector-from",
      "seed:5",
    ]);
    const written = await folderFiles(out);
    const vision = written.get("onnx/vision_encoder.onnx_data")!;
    // The connector is seed 5's (the encoder stream's values), everything else is the checkpoint's.
    const projEntry = tensors.get("model.connector.modality_projection.proj.weight")!;
    const [outDim, inDim] = projEntry.dims;
    const seededProj = new WeightFactory(5, "encoder").matrix("proj.weight", inDim, outDim);
    const contains = (haystack: Uint8Array, needle: Float32Array) =>
      Buffer.from(haystack).includes(
        Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength),
      );
    assert.ok(
      contains(vision, seededProj.data),
      "seed 5's connector is not in vision_encoder.onnx_data",
    );
    const ownProj = seeded.weights["vision_encoder"].get("proj.weight")!;
    assert.ok(!contains(vision, ownProj.data), "the checkpoint's connector was used");
    const patch = seeded.weights["vision_encoder"].get("patch.weight")!;
    assert.ok(contains(vision, patch.data), "the checkpoint's patch embedding is missing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function refuses(
  write: (ckpt: string) => Promise<void>,
  expect: { code: string; words: RegExp[] },
) {
  const { dir, variant, out } = await workspace();
  try {
    await write(`${dir}/ckpt`);
    await assert.rejects(
      () => convertFromArgs(["--from", `${dir}/ckpt`, "--variant", variant, "--out", out]),
      (error: unknown) => {
        assert.ok(error instanceof VlmError, String(error));
        assert.equal(error.code, expect.code);
        for (const words of expect.words) assert.match(error.message, words);
        assert.ok(error.fix);
        return true;
      },
    );
    assert.equal(await exists(out), false, "--out was created");
    for await (const entry of Deno.readDir(dir)) {
      assert.ok(!entry.name.startsWith("out."), `left behind: ${entry.name}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const MISSING = "model.text_model.layers.1.mlp.up_proj.weight";
const RESHAPED = "model.vision_model.encoder.layers.0.self_attn.q_proj.weight";

Deno.test("missing tensors and wrong shapes are listed together, naming tensor, file and shapes", async () => {
  await refuses(async (ckpt) => {
    const entries = toEntries(tensors).filter((e) => e.name !== MISSING);
    const q = entries.find((e) => e.name === RESHAPED)!;
    q.shape = [q.shape[1] / 2, q.shape[0] * 2]; // same bytes, wrong shape
    await writeCheckpoint(ckpt, entries);
  }, {
    code: "model_mismatch",
    words: [
      /2 issues/,
      new RegExp(
        `${MISSING.replaceAll(".", "\\.")}: missing from .*ckpt.*expected shape \\[\\d+, \\d+\\]`,
      ),
      new RegExp(
        `${
          RESHAPED.replaceAll(".", "\\.")
        }: in .*model\\.safetensors: expected shape \\[32, 32\\], found \\[16, 64\\]`,
      ),
    ],
  });
});

Deno.test("an unknown dtype names the tensor and the file", async () => {
  await refuses(async (ckpt) => {
    const entries = toEntries(tensors);
    const bytes = encodeSafetensors(entries);
    // Relabel the first tensor's F32 as I32 in the header (same width: only the dtype is wrong).
    const at = new TextDecoder().decode(bytes.subarray(0, 200)).indexOf('"F32"');
    bytes[at + 1] = "I".charCodeAt(0);
    await Deno.mkdir(ckpt);
    await Deno.writeFile(`${ckpt}/model.safetensors`, bytes);
  }, { code: "model_invalid", words: [/model\.safetensors: tensor \S+: dtype "I32"/] });
});

Deno.test("a truncated file names the first tensor past its end and the file", async () => {
  await refuses(async (ckpt) => {
    const bytes = encodeSafetensors(toEntries(tensors));
    await Deno.mkdir(ckpt);
    await Deno.writeFile(`${ckpt}/model.safetensors`, bytes.subarray(0, bytes.length - 100));
  }, {
    code: "model_invalid",
    words: [/model\.safetensors: tensor \S+: data ends at byte \d+, past the end/],
  });
});

Deno.test("a header claiming more bytes than the file has is refused, naming the file", async () => {
  await refuses(async (ckpt) => {
    const bytes = encodeSafetensors(toEntries(tensors));
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length * 2), true);
    await Deno.mkdir(ckpt);
    await Deno.writeFile(`${ckpt}/model.safetensors`, bytes);
  }, { code: "model_invalid", words: [/model\.safetensors: header length \d+ runs past the end/] });
});

Deno.test("source arguments: folders, hf: repos with revisions, seeds", () => {
  assert.deepEqual(parseWeightSourceArg("from", "/ckpt"), { kind: "folder", path: "/ckpt" });
  assert.deepEqual(parseWeightSourceArg("from", "hf:HuggingFaceTB/SmolVLM-256M-Instruct@v1"), {
    kind: "hub",
    repo: "HuggingFaceTB/SmolVLM-256M-Instruct",
    revision: "v1",
  });
  assert.deepEqual(parseWeightSourceArg("from", "hf:owner/name"), {
    kind: "hub",
    repo: "owner/name",
  });
  assert.deepEqual(parseWeightSourceArg("projector-from", "seed:12"), { kind: "seed", seed: 12 });
  for (const bad of ["seed:", "seed:-1", "seed:1.5", `seed:${2 ** 32}`]) {
    assert.throws(() => parseWeightSourceArg("projector-from", bad), /projector-from/);
  }
  assert.throws(() => parseWeightSourceArg("from", "hf:not a repo"), VlmError);
});

Deno.test("dtypes the builder does not emit are refused by name", async () => {
  await assert.rejects(
    () => convertFromArgs(["--from", "/nowhere", "--out", "/nowhere-out", "--dtype", "quantized"]),
    (error: unknown) => error instanceof VlmError && /--dtype quantized/.test(error.message),
  );
});
