// A host-supplied ONNX Runtime (`backend: { ort }`): the platform's runtime runs the model as
// vlmkit's own native backend does, the Supabase global is picked up, and objects that are not
// an onnxruntime API are refused naming what they lack. onnxruntime-node stands in for the host.
import assert from "node:assert/strict";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { loadBackend, type OrtApi } from "../../src/runtime/backend.ts";
import { hostOnnxRuntime } from "../../src/runtime/host_runtime.ts";
import { loadModel, type LoadModelOptions } from "../../src/runtime/load_model.ts";
import { checkLoadOptions } from "../../src/runtime/load_options.ts";

const TINY = new URL("../../models/tiny-smolvlm/", import.meta.url);
const IMAGE = new URL("examples/000001.png", TINY);

async function greedyIds(options: LoadModelOptions, folder = TINY) {
  const model = await loadModel(folder, options);
  try {
    const result = await model.generate({
      prompt: "What is in this image?",
      images: [await Deno.readFile(IMAGE)],
      maxNewTokens: 12,
    });
    return { backend: model.backend, ids: result.tokenIds };
  } finally {
    await model.dispose();
  }
}

/** Wraps onnxruntime-node, counting what the sessions were opened from and with. */
async function countingHost() {
  const node = (await import("onnxruntime-node")) as unknown as OrtApi;
  const opened: { source: string; options: Record<string, unknown> }[] = [];
  const ort: OrtApi = {
    Tensor: node.Tensor,
    InferenceSession: {
      create(model, options) {
        opened.push({ source: typeof model === "string" ? "path" : "bytes", options: options! });
        return node.InferenceSession.create(model, options);
      },
    },
  };
  return { ort, opened };
}

Deno.test("host backend: onnxruntime-node handed in gives the native backend's greedy ids", async () => {
  const native = await greedyIds({ backend: "native", threads: 1 });
  const { ort, opened } = await countingHost();
  const host = await greedyIds({
    backend: { ort, name: "emulated" },
    threads: 1,
    embedding: "session",
  });
  assert.equal(host.backend, "host");
  assert.ok(native.ids.length > 0);
  assert.deepEqual(host.ids, native.ids);
  // Every session (embed_tokens too, asked for) went through the host's runtime, from bytes,
  // on the cpu provider.
  assert.equal(opened.length, 3);
  for (const { source, options } of opened) {
    assert.equal(source, "bytes");
    assert.deepEqual(options.executionProviders, ["cpu"]);
    assert.equal(options.intraOpNumThreads, 1);
  }
});

Deno.test("host backend: readsFiles opens local models by path; sessionOptions override", async () => {
  const { ort, opened } = await countingHost();
  const backend = { ort, readsFiles: true, sessionOptions: { graphOptimizationLevel: "basic" } };
  const native = await greedyIds({ backend: "native", threads: 1 });
  const host = await greedyIds({ backend, threads: 1 });
  assert.deepEqual(host.ids, native.ids);
  // Vision and decoder: the token embeddings are gathered from the table, without a session.
  assert.equal(opened.length, 2);
  for (const { source, options } of opened) {
    assert.equal(source, "path");
    assert.equal(options.graphOptimizationLevel, "basic");
    assert.deepEqual(options.executionProviders, ["cpu"]);
  }
});

Deno.test("host backend: external weights reach the host runtime as externalData", async () => {
  const folder = new URL("../fixtures/tiny-idefics3-external/", import.meta.url);
  const { ort, opened } = await countingHost();
  const native = await greedyIds({ backend: "native", threads: 1 }, folder);
  const host = await greedyIds({ backend: { ort }, threads: 1 }, folder);
  assert.deepEqual(host.ids, native.ids);
  assert.equal(opened.length, 2); // the embedding table is read without a session
  for (const { source, options } of opened) {
    assert.equal(source, "bytes");
    const [data] = options.externalData as { path: string; data: Uint8Array }[];
    assert.match(data.path, /\.onnx_data$/);
    assert.ok(data.data.length > 0);
  }
});

Deno.test("host backend: hostOnnxRuntime reads globalThis[Symbol.for('onnxruntime')]", async () => {
  const key = Symbol.for("onnxruntime");
  const global = globalThis as Record<symbol, unknown>;
  assert.equal(hostOnnxRuntime(), undefined);
  const node = (await import("onnxruntime-node")) as unknown as OrtApi;
  global[key] = node;
  try {
    assert.equal(hostOnnxRuntime(), node);
    const backend = await loadBackend({ backend: { ort: hostOnnxRuntime()! } });
    assert.equal(backend.name, "host");
    assert.equal(backend.ort, node);
    assert.equal(backend.readsFiles, false);
  } finally {
    delete global[key];
  }
  assert.equal(hostOnnxRuntime(), undefined);
});

function refused(...patterns: RegExp[]) {
  return (e: unknown) => {
    assert.ok(e instanceof VlmError, String(e));
    assert.equal(e.code, "usage");
    for (const pattern of patterns) assert.match(e.message, pattern);
    assert.match(e.fix ?? "", /backend: \{ ort \}/);
    return true;
  };
}

Deno.test("host backend: objects that are not an onnxruntime API are refused, naming what is missing", async () => {
  const Tensor = class {};
  const create = () => Promise.reject(new Error("not called"));
  const cases: [unknown, RegExp[]][] = [
    [{}, [/backend\.ort must be an ONNX Runtime API object, got undefined/]],
    [{ ort: null }, [/backend\.ort must be an ONNX Runtime API object, got null/]],
    [{ ort: { Tensor } }, [/backend\.ort\.InferenceSession\.create must be a function/]],
    [
      { ort: { Tensor, InferenceSession: {} } },
      [/backend\.ort\.InferenceSession\.create must be a function, got undefined/],
    ],
    [{ ort: { InferenceSession: { create } } }, [/backend\.ort\.Tensor must be a constructor/]],
    [
      { ort: { Tensor: 1, InferenceSession: { create: "x" } } },
      [/InferenceSession\.create must be a function, got string/, /Tensor .* got number/],
    ],
    [{ ort: { Tensor, InferenceSession: { create } }, name: 3 }, [/backend\.name must be/]],
    [
      { ort: { Tensor, InferenceSession: { create } }, sessionOptions: [] },
      [/backend\.sessionOptions must be an object, got an array/],
    ],
    [
      { ort: { Tensor, InferenceSession: { create } }, readsFiles: "yes" },
      [/backend\.readsFiles must be true or false/],
    ],
    [
      { ort: { Tensor, InferenceSession: { create } }, threads: 2 },
      [/backend has the unknown member "threads"/],
    ],
  ];
  for (const [backend, patterns] of cases) {
    const options = { backend } as unknown as LoadModelOptions;
    assert.throws(() => checkLoadOptions(options), refused(...patterns), JSON.stringify(backend));
    // Refused before anything is read or loaded.
    await assert.rejects(loadModel("/nonexistent/vlmkit-model", options), refused(...patterns));
    await assert.rejects(loadBackend({ backend } as never), refused(...patterns));
  }
  // A complete object passes.
  checkLoadOptions({ backend: { ort: { Tensor, InferenceSession: { create } } as never } });
});
