// The wasm backend's weights-as-external-data split: the graph keeps every tensor's
// metadata, each moved payload is found at its offset in the original bytes, small
// tensors stay inline, and ONNX Runtime (wasm) computes the same outputs from either form.
import assert from "node:assert/strict";
import fc from "fast-check";
import * as ort from "onnxruntime-web";
import onnxProto from "onnx-proto";
import { decodeModel } from "../../src/build/onnx_file.ts";
import { synthesize } from "../../src/build/synthesize.ts";
import { EXTERNAL_MIN_BYTES, externalizeWeights } from "../../src/runtime/external_weights.ts";
import { getPreset } from "../../variants/mod.ts";

const { onnx } = onnxProto;

function file(name: string): Uint8Array {
  const built = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", seed: 3 });
  return built.files.find((f) => f.path.includes(name))!.bytes;
}

Deno.test("external weights: large payloads point into the original bytes, small ones stay", () => {
  const bytes = file("decoder_model_merged");
  const split = externalizeWeights(bytes, "decoder.weights")!;
  assert.ok(split.moved > 0);
  assert.equal(split.weights.data, bytes, "the original bytes are the data file, not a copy");
  assert.ok(split.graph.length < bytes.length / 4, `${split.graph.length} of ${bytes.length}`);
  const before = decodeModel(bytes).graph!.initializer!;
  const after = decodeModel(split.graph).graph!.initializer!;
  assert.deepEqual(after.map((t) => t.name), before.map((t) => t.name));
  let moved = 0;
  for (const [i, t] of after.entries()) {
    const was = before[i];
    assert.deepEqual(t.dims, was.dims);
    assert.equal(t.dataType, was.dataType);
    const raw = was.rawData ?? new Uint8Array();
    if (raw.length < EXTERNAL_MIN_BYTES) {
      assert.notEqual(t.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
      continue;
    }
    moved++;
    assert.equal(t.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
    assert.equal(t.rawData?.length ?? 0, 0);
    const entry = new Map(t.externalData!.map((e) => [e.key, e.value]));
    assert.equal(entry.get("location"), "decoder.weights");
    const offset = Number(entry.get("offset"));
    const length = Number(entry.get("length"));
    assert.deepEqual(bytes.subarray(offset, offset + length), raw);
  }
  assert.equal(moved, split.moved);
});

Deno.test("external weights: a model without large initializers is left alone", () => {
  const model = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "g",
      initializer: [{ name: "w", dims: [2], dataType: 1, rawData: new Uint8Array(8) }],
    },
  }).finish();
  assert.equal(externalizeWeights(model, "x"), undefined);
  assert.equal(externalizeWeights(new Uint8Array([0x3a, 0x00]), "x"), undefined, "no graph");
});

Deno.test("external weights: every payload reads back from the original bytes, inline or moved (property)", () => {
  const tensor = fc.record({
    size: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1000, max: 5000 })),
    seed: fc.integer({ min: 0, max: 255 }),
  });
  fc.assert(
    fc.property(fc.array(tensor, { minLength: 1, maxLength: 6 }), (specs) => {
      const initializer = specs.map(({ size, seed }, i) => ({
        name: `w${i}`,
        dims: [size],
        dataType: onnx.TensorProto.DataType.UINT8,
        rawData: Uint8Array.from({ length: size }, (_, j) => (seed + j * 7) & 255),
      }));
      const bytes = onnx.ModelProto.encode({
        irVersion: 8,
        producerName: "test",
        graph: { name: "g", initializer },
      }).finish();
      const split = externalizeWeights(bytes, "w.bin");
      const large = specs.filter((s) => s.size >= EXTERNAL_MIN_BYTES).length;
      if (large === 0) return split === undefined;
      assert.equal(split!.moved, large);
      const model = decodeModel(split!.graph);
      assert.equal(model.producerName, "test");
      for (const [i, t] of model.graph!.initializer!.entries()) {
        const entry = new Map((t.externalData ?? []).map((e) => [e.key, e.value]));
        const payload = entry.size
          ? bytes.subarray(
            Number(entry.get("offset")),
            Number(entry.get("offset")) + Number(entry.get("length")),
          )
          : t.rawData!;
        assert.deepEqual(new Uint8Array(payload), initializer[i].rawData);
      }
      return true;
    }),
  );
});

/** `bytes` with its first large initializer already in a data file of its own, as exports have. */
function oneTensorOutside(bytes: Uint8Array): { model: Uint8Array; data: Uint8Array } {
  const model = decodeModel(bytes);
  const tensor = model.graph!.initializer!.find((t) => (t.rawData?.length ?? 0) >= 4096)!;
  const data = tensor.rawData!.slice();
  tensor.rawData = new Uint8Array();
  tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  tensor.externalData = [
    { key: "location", value: "model.onnx_data" },
    { key: "offset", value: "0" },
    { key: "length", value: String(data.length) },
  ];
  return { model: onnx.ModelProto.encode(model).finish(), data };
}

Deno.test("external weights: ONNX Runtime (wasm) gives the same outputs from either form", async () => {
  ort.env.wasm.numThreads = 1;
  const bytes = file("vision_encoder");
  // Inline weights, and a file whose export already keeps one tensor in a data file.
  const mixed = oneTensorOutside(bytes);
  const split = externalizeWeights(bytes, "vision.weights")!;
  const splitMixed = externalizeWeights(mixed.model, "vision.weights")!;
  assert.equal(splitMixed.moved, split.moved - 1, "the tensor already outside stays there");
  const inline = await ort.InferenceSession.create(bytes);
  const external = await ort.InferenceSession.create(split.graph, {
    externalData: [split.weights],
  });
  const both = await ort.InferenceSession.create(splitMixed.graph, {
    externalData: [{ path: "model.onnx_data", data: mixed.data }, splitMixed.weights],
  });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const meta of inline.inputMetadata) {
      if (!meta.isTensor) throw new Error("tensor inputs expected");
      const shape = meta.shape.map((d) => (typeof d === "number" ? d : 1));
      const size = shape.reduce((a, b) => a * b, 1);
      feeds[meta.name] = meta.type === "bool"
        ? new ort.Tensor("bool", new Uint8Array(size).fill(1), shape)
        : new ort.Tensor(
          "float32",
          Float32Array.from({ length: size }, (_, i) => Math.sin(i)),
          shape,
        );
    }
    const a = await inline.run(feeds);
    const b = await external.run(feeds);
    const c = await both.run(feeds);
    for (const name of inline.outputNames) {
      assert.deepEqual(b[name].data, a[name].data, name);
      assert.deepEqual(c[name].data, a[name].data, name);
    }
  } finally {
    await inline.release();
    await external.release();
    await both.release();
  }
});

Deno.test("external weights: loadModel on wasm hands ONNX Runtime small graphs and the weights as external data", async () => {
  // The module instance the wasm backend imports: its session factory, observed.
  const web = await import("npm:onnxruntime-web@1.30.0/wasm");
  const seen: { graph: number; external: number[] }[] = [];
  const create = web.InferenceSession.create;
  // deno-lint-ignore no-explicit-any
  (web.InferenceSession as any).create = (source: Uint8Array, options: any) => {
    seen.push({
      graph: source.byteLength,
      external: (options?.externalData ?? []).map((e: { data: Uint8Array }) => e.data.byteLength),
    });
    return create.call(web.InferenceSession, source, options);
  };
  try {
    const { loadModel } = await import("../../src/runtime/load_model.ts");
    const folder = new URL("../../models/tiny-smolvlm/", import.meta.url).pathname;
    const sizes = await Promise.all(
      ["decoder_model_merged", "vision_encoder"].map(async (name) =>
        (await Deno.stat(`${folder}onnx/${name}.onnx`)).size
      ),
    );
    const model = await loadModel(folder, { backend: "wasm" });
    const result = await model.generate({ prompt: "Hi", maxNewTokens: 2, stopTokenIds: [] });
    await model.dispose();
    assert.equal(result.tokenIds.length, 2);
    for (const size of sizes) {
      const session = seen.find((s) => s.external.includes(size));
      assert.ok(session, `a session with the ${size}-byte file as its external data`);
      assert.ok(session.graph < size / 4, `graph ${session.graph} of ${size} bytes`);
    }
  } finally {
    // deno-lint-ignore no-explicit-any
    (web.InferenceSession as any).create = create;
  }
});
