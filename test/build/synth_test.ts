// vlm synth end to end: every preset at the reduced test scale synthesizes,
// stores exactly the Plan's parameters, loads through the runtime and
// generates; hf-idefics3 folders agree with transformers.js on greedy ids.
import assert from "node:assert/strict";
import { join } from "node:path";
import { synthesize } from "../../src/build/synthesize.ts";
import { inspectOnnx } from "../../src/build/inspect_onnx.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { dumpInputs } from "../../tools/cli/dump_inputs.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { getPreset, presetNames } from "../../variants/mod.ts";

const IMAGE = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;

Deno.test("synth: every preset at the test scale stores the Plan's parameters, module by module", () => {
  for (const name of presetNames()) {
    const result = synthesize(getPreset(name), { scale: "test", seed: 3 });
    const { params } = result.plan;
    const d = result.spec.decoder;
    const tiedCopy = d.tiedEmbeddings ? d.vocab * d.hidden : 0;
    const p = result.parameters;
    const language = p.embed_tokens + (p.decoder ?? p.decoder_model_merged);
    assert.equal(language, params.decoder.total + tiedCopy, `${name}: decoder parameters`);
    if (result.spec.artifacts.layout === "hf-idefics3") {
      assert.equal(
        p.vision_encoder,
        params.encoder.total - params.encoder.unused + params.projector.total,
        name,
      );
    } else {
      assert.equal(p.encoder, params.encoder.total - params.encoder.unused, `${name}: encoder`);
      assert.equal(p.projector, params.projector.total, `${name}: projector`);
    }
    // Independently: float initializers in the files (constants excluded) hold that many values.
    for (const file of result.files.filter((f) => f.path.endsWith(".onnx"))) {
      const module = result.plan.files.find((f) => f.path === file.path)!.module;
      const info = inspectOnnx(file.bytes);
      assert.equal(info.metadata["vlmkit.parameters"], String(p[module]), file.path);
    }
  }
});

Deno.test("synth: the same seed gives identical bytes, another seed different weights", () => {
  const spec = getPreset("mobilevlm-v2-1.7b");
  const a = synthesize(spec, { scale: "test", seed: 5 }).files;
  const b = synthesize(spec, { scale: "test", seed: 5 }).files;
  const c = synthesize(spec, { scale: "test", seed: 6 }).files;
  const decoder = (files: typeof a) => files.find((f) => f.path === "onnx/decoder.onnx")!.bytes;
  assert.deepEqual(decoder(a), decoder(b));
  assert.notDeepEqual(decoder(a), decoder(c));
});

Deno.test("synth: the hf layout refuses projectors it cannot fuse, with the fix", () => {
  assert.throws(
    () => synthesize(getPreset("mobilevlm-1.7b"), { scale: "test", layout: "hf-idefics3" }),
    (error: Error) =>
      /ldp projector/.test(error.message) &&
      /--layout modular/.test((error as { fix?: string }).fix ?? ""),
  );
});

for (const name of presetNames()) {
  Deno.test(`synth: ${name} at the test scale loads and generates through the runtime`, async () => {
    const result = synthesize(getPreset(name), { scale: "test", seed: 1 });
    const dir = await Deno.makeTempDir();
    try {
      await writeFolderAtomically(join(dir, "model"), result.files, false);
      const model = await loadModel(join(dir, "model"), { backend: "native" });
      try {
        // The folder describes the same variant it was built from.
        const { spec } = model.plan;
        assert.deepEqual(spec.decoder, result.spec.decoder);
        assert.deepEqual(
          { ...spec.encoder },
          { ...result.spec.encoder },
        );
        assert.deepEqual(spec.tokens.image, result.spec.tokens.image);
        const out = await model.generate({
          prompt: "Describe the image.",
          images: [IMAGE],
          maxNewTokens: 4,
          stopTokenIds: [],
        });
        assert.equal(out.tokenIds.length, 4);
        const plan = resolve(result.spec);
        assert.equal(out.imageTokens % plan.tokensPerTile, 0);
        assert.ok(out.imageTokens > 0);
      } finally {
        await model.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

async function transformersJs(model: string, dump: string, dtype: string, tokens: number) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../tools/oracle/transformers_js.ts", import.meta.url).pathname,
      "--model",
      model,
      "--inputs",
      dump,
      "--dtype",
      dtype,
      "--max-new-tokens",
      String(tokens),
      "--ignore-eos",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]).tokenIds as number[];
}

// Three structures: r=4 on a 512/16 grid (SmolVLM-256M), r=3 on a 384/14 grid
// with dropped remainder pixels (SmolVLM 2.2B), and a tied head (granite-docling);
// plus the int8 and q4 files of the first.
const PARITY = [
  ["smolvlm-256m-instruct", "fp32"],
  ["smolvlm-instruct", "fp32"],
  ["granite-docling-258m", "fp32"],
  ["smolvlm-256m-instruct", "int8"],
  ["smolvlm-256m-instruct", "q4"],
] as const;

for (const [name, dtype] of PARITY) {
  Deno.test(`synth: transformers.js runs the synthesized ${name} ${dtype} folder and agrees on 16 greedy ids`, async () => {
    const tokens = 16;
    const result = synthesize(getPreset(name), { scale: "test", seed: 2, dtype });
    const dir = await Deno.makeTempDir();
    try {
      const folder = join(dir, `${name}-${dtype}`);
      await writeFolderAtomically(folder, result.files, false);
      const model = await loadModel(folder, { backend: "native", dtype });
      try {
        const request = {
          prompt: "What is in the image?",
          images: [IMAGE],
          maxNewTokens: tokens,
          stopTokenIds: [],
        };
        const inputs = await model.prepareInputs(request);
        await dumpInputs(join(dir, "dump"), inputs);
        const ours = await model.generate({ ...request, reusePrefix: false });
        const theirs = await transformersJs(folder, join(dir, "dump"), dtype, tokens);
        assert.deepEqual(ours.tokenIds, theirs);
      } finally {
        await model.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("synth: the int8 folder (integer matmuls) gives the same greedy ids on wasm as on native", async () => {
  const result = synthesize(getPreset("smolvlm-256m-instruct"), {
    scale: "test",
    seed: 5,
    dtype: "int8",
  });
  const dir = await Deno.makeTempDir();
  try {
    await writeFolderAtomically(join(dir, "int8"), result.files, false);
    const ids: number[][] = [];
    for (const backend of ["wasm", "native"] as const) {
      const model = await loadModel(join(dir, "int8"), {
        backend,
        dtype: "int8",
        maxTiles: Infinity,
      });
      try {
        const request = {
          prompt: "Describe.",
          images: [IMAGE],
          maxNewTokens: 16,
          stopTokenIds: [],
        };
        ids.push((await model.generate(request)).tokenIds);
      } finally {
        await model.dispose();
      }
    }
    assert.equal(ids[0].length, 16);
    assert.deepEqual(ids[0], ids[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("synth: external data (<file>.onnx_data) loads on both backends and in transformers.js, same ids as inline", async () => {
  const spec = getPreset("smolvlm-256m-instruct");
  const inline = synthesize(spec, { scale: "test", seed: 8 });
  const external = synthesize(spec, { scale: "test", seed: 8, externalData: "always" });
  const dataFiles = external.files.filter((f) => f.path.endsWith(".onnx_data")).map((f) => f.path)
    .sort();
  assert.deepEqual(dataFiles, [
    "onnx/decoder_model_merged.onnx_data",
    "onnx/embed_tokens.onnx_data",
    "onnx/vision_encoder.onnx_data",
  ]);
  const dir = await Deno.makeTempDir();
  try {
    const ids: number[][] = [];
    for (const [name, result] of [["inline", inline], ["external", external]] as const) {
      const folder = join(dir, name);
      await writeFolderAtomically(folder, result.files, false);
      const model = await loadModel(folder, { backend: "wasm", maxTiles: Infinity });
      try {
        const request = { prompt: "Hi", images: [IMAGE], maxNewTokens: 8, stopTokenIds: [] };
        ids.push((await model.generate(request)).tokenIds);
        if (name === "external") {
          await dumpInputs(join(dir, "dump"), await model.prepareInputs(request));
          assert.deepEqual(await transformersJs(folder, join(dir, "dump"), "fp32", 8), ids[1]);
          // The native backend opens the local files itself and finds the data beside them.
          const native = await loadModel(folder, { backend: "native" });
          try {
            assert.deepEqual((await native.generate(request)).tokenIds, ids[1]);
          } finally {
            await native.dispose();
          }
        }
      } finally {
        await model.dispose();
      }
    }
    assert.deepEqual(ids[0], ids[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("synth: a modular MobileVLM folder builds the v1 prompt with BOS and 144 spliced image slots", async () => {
  const result = synthesize(getPreset("mobilevlm-1.7b"), { scale: "test", seed: 1 });
  const dir = await Deno.makeTempDir();
  try {
    await writeFolderAtomically(join(dir, "m"), result.files, false);
    const model = await loadModel(join(dir, "m"), { backend: "native" });
    try {
      const inputs = await model.prepareInputs({
        prompt: "What is this?",
        images: [IMAGE],
      });
      const ids = inputs.inputIds;
      assert.equal(ids[0], 1, "BOS first");
      const first = ids.indexOf(-200);
      assert.equal(ids.filter((id) => id === -200).length, 144);
      assert.ok(ids.slice(first, first + 144).every((id) => id === -200), "one contiguous block");
      const before = model.tokenizer.decode(ids.slice(1, first), false);
      const after = model.tokenizer.decode(ids.slice(first + 144), false);
      assert.match(
        before,
        /^A chat between a curious user and an artificial intelligence assistant\..* USER: $/,
      );
      assert.equal(after, "\nWhat is this? ASSISTANT:");
      assert.equal(inputs.tiles, 1);
    } finally {
      await model.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
