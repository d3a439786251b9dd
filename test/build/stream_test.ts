// The streaming build (`synthesizeToFolder`, what `vlm synth` at full scale and `vlm convert`
// use): tensor by tensor into `<file>.onnx_data`, byte-identical to the in-memory
// external-data form, no weights retained, loads on both backends with the in-memory folder's
// greedy ids, and a failure mid-write leaves nothing in --out.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { WeightFormat } from "../../src/build/layers/ops.ts";
import { decodeModel } from "../../src/build/onnx_file.ts";
import { type FolderSink, synthesize, synthesizeToFolder } from "../../src/build/synthesize.ts";
import type { AppendFile } from "../../src/build/tensor_sink.ts";
import { seededSources } from "../../src/build/weight_source.ts";
import type { ArtifactLayout } from "../../src/spec/types.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { dumpInputs } from "../../tools/cli/dump_inputs.ts";
import { writeFolderAtomically, writeFolderStreaming } from "../../tools/cli/folder_writer.ts";
import { getPreset } from "../../variants/mod.ts";
import { runVlm } from "../cli/_vlm.ts";

const PRESET = "smolvlm-256m-instruct";
const IMAGE = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;

/** A folder in memory that records every append. */
class MemoryFolder implements FolderSink {
  readonly files = new Map<string, Uint8Array>();
  readonly appends: number[] = [];

  create(path: string): AppendFile {
    const chunks: Uint8Array[] = [];
    this.files.set(path, new Uint8Array(0));
    return {
      append: (bytes) => {
        this.appends.push(bytes.byteLength);
        chunks.push(bytes.slice());
      },
      close: () => this.files.set(path, concat(chunks)),
    };
  }

  write(path: string, bytes: Uint8Array): void {
    this.files.set(path, bytes.slice());
  }

  rename(from: string, to: string): void {
    const bytes = this.files.get(from);
    assert.ok(bytes, `${from} was never created`);
    this.files.delete(from);
    this.files.set(to, bytes);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

const FORMS: [WeightFormat, ArtifactLayout][] = [
  ["fp32", "hf-idefics3"],
  ["fp16", "hf-idefics3"],
  ["q4f16", "hf-idefics3"],
  ["int8", "modular"],
];

for (const [dtype, layout] of FORMS) {
  Deno.test(`stream: ${dtype} ${layout} streamed equals the in-memory external-data folder byte for byte`, () => {
    const options = { scale: "test" as const, seed: 3, dtype, layout };
    const folder = new MemoryFolder();
    const streamed = synthesizeToFolder(getPreset(PRESET), folder, options);
    const memory = synthesize(getPreset(PRESET), { ...options, externalData: "always" });
    assert.deepEqual([...folder.files.keys()].sort(), memory.files.map((f) => f.path).sort());
    for (const file of memory.files) {
      const got = folder.files.get(file.path)!;
      assert.ok(Buffer.compare(got, file.bytes) === 0, `${file.path} differs`);
    }
    assert.deepEqual(
      streamed.files.map((f) => [f.path, f.bytes]).sort(),
      memory.files.map((f) => [f.path, f.bytes.byteLength]).sort(),
    );
    assert.deepEqual(streamed.parameters, memory.parameters);
    // Tensor by tensor: no append is bigger than the largest single tensor.
    const largest = Math.max(
      ...memory.files.filter((f) => f.path.endsWith(".onnx")).flatMap((f) =>
        decodeModel(f.bytes).graph!.initializer!.map((t) =>
          Number(t.externalData?.find((e) => e.key === "length")?.value ?? 0)
        )
      ),
    );
    assert.equal(Math.max(...folder.appends), largest);
    assert.ok(folder.appends.length > memory.files.length);
  });
}

Deno.test("stream: the streaming path keeps no weights; the in-memory one still does", () => {
  const spec = getPreset(PRESET);
  const kept = seededSources(0)("decoder");
  const dropped = seededSources(0, false)("decoder");
  kept.bias("b", 8);
  dropped.bias("b", 8);
  assert.equal(kept.weights.size, 1);
  assert.equal(dropped.weights.size, 0);
  assert.throws(() => dropped.bias("b", 8), /made twice/);
  const streamed = synthesizeToFolder(spec, new MemoryFolder(), { scale: "test" });
  assert.ok(!("weights" in streamed));
  assert.ok(synthesize(spec, { scale: "test" }).weights["decoder_model_merged"].size > 0);
});

Deno.test("stream: a streamed folder loads on native and wasm with the in-memory folder's greedy ids", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-stream-test-" });
  try {
    const spec = getPreset(PRESET);
    const inline = join(dir, "inline");
    const streamed = join(dir, "streamed");
    await writeFolderAtomically(inline, synthesize(spec, { scale: "test", seed: 5 }).files, false);
    await writeFolderStreaming(
      streamed,
      false,
      (folder) => synthesizeToFolder(spec, folder, { scale: "test", seed: 5 }),
    );
    const names = [...Deno.readDirSync(join(streamed, "onnx"))].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "decoder_model_merged.onnx",
      "decoder_model_merged.onnx_data",
      "embed_tokens.onnx",
      "embed_tokens.onnx_data",
      "vision_encoder.onnx",
      "vision_encoder.onnx_data",
    ]);
    const config = JSON.parse(Deno.readTextFileSync(join(streamed, "config.json")));
    assert.equal(config["transformers.js_config"].use_external_data_format, true);
    const request = {
      prompt: "What is in the image?",
      images: [IMAGE],
      maxNewTokens: 12,
      stopTokenIds: [],
    };
    const ids = async (folder: string, backend: "native" | "wasm") => {
      const model = await loadModel(folder, { backend, maxTiles: Infinity });
      try {
        return (await model.generate(request)).tokenIds;
      } finally {
        await model.dispose();
      }
    };
    const expected = await ids(inline, "native");
    assert.equal(expected.length, 12);
    assert.deepEqual(await ids(streamed, "native"), expected);
    assert.deepEqual(await ids(streamed, "wasm"), await ids(inline, "wasm"));
    // transformers.js reads the external data too (config.json tells it to) and agrees.
    const model = await loadModel(streamed, { backend: "native" });
    try {
      await dumpInputs(join(dir, "dump"), await model.prepareInputs(request));
    } finally {
      await model.dispose();
    }
    assert.deepEqual(await transformersJs(streamed, join(dir, "dump")), expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function transformersJs(model: string, dump: string): Promise<number[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../tools/oracle/transformers_js.ts", import.meta.url).pathname,
      ...["--model", model, "--inputs", dump, "--dtype", "fp32"],
      ...["--max-new-tokens", "12", "--ignore-eos"],
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]).tokenIds as number[];
}

Deno.test("stream: vlm synth --stream writes external data; --stream with --inline is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-stream-test-" });
  try {
    const RW = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi"];
    const args = ["synth", "--variant", PRESET, "--scale", "test", "--out", join(dir, "m")];
    const run = await runVlm(RW, [...args, "--stream", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    const expected = synthesize(getPreset(PRESET), { scale: "test", externalData: "always" });
    assert.deepEqual(
      summary.files.map((f: { path: string; bytes: number }) => [f.path, f.bytes]).sort(),
      expected.files.map((f) => [f.path, f.bytes.byteLength]).sort(),
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["m"]);
    const both = await runVlm(RW, [...args, "--force", "--stream", "--inline", "--json"]);
    assert.equal(both.code, 2);
    assert.match(JSON.parse(both.stdout).error.message, /--stream and --inline/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stream: a failure mid-write leaves nothing in --out and no staging folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vlmkit-stream-test-" });
  try {
    const out = join(dir, "out");
    let appended = 0;
    await assert.rejects(
      () =>
        writeFolderStreaming(out, false, (folder) => {
          const failing: FolderSink = {
            create: (path) => {
              const file = folder.create(path);
              return {
                append: (bytes) => {
                  // The disk fills up partway through the decoder's weights.
                  if (++appended === 5) throw new Deno.errors.WriteZero("disk full");
                  file.append(bytes);
                },
                close: () => file.close(),
              };
            },
            write: (path, bytes) => folder.write(path, bytes),
            rename: (from, to) => folder.rename(from, to),
          };
          return synthesizeToFolder(getPreset(PRESET), failing, { scale: "test" });
        }),
      /disk full/,
    );
    assert.equal(appended, 5);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
