// The wasm decode path that copies only each step's new KV rows out of
// onnxruntime-web: the decoder graph rewritten at load to return those rows,
// capacity buffers fed whole as past, and the rows appended after each run.
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { synthesize } from "../../src/build/synthesize.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import type { OrtApi } from "../../src/runtime/backend.ts";
import { OnnxDecoder, PREFILL_CHUNK } from "../../src/modules/onnx_decoder.ts";
import { KV_ROWS_AXIS } from "../../src/modules/kv_buffer_axis.ts";
import { SharedKvBuffer, type SharedKvView } from "../../src/modules/shared_kv_cache.ts";
import { leadingRows, writeRows } from "../../src/modules/kv_rows.ts";
import { kvRowsForm, rewriteKvRows } from "../../src/runtime/kv_rows_rewrite.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { getPreset } from "../../variants/mod.ts";

const built = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", seed: 4 });
const fileBytes = (suffix: string) => built.files.find((f) => f.path.endsWith(suffix))!.bytes;
const decoderBytes = fileBytes("decoder_model_merged.onnx");
const { layers, kvHeads, headDim, hidden } = built.spec.decoder;

async function decoders() {
  const backend = await loadBackend({ backend: "wasm", threads: 1 });
  const plain = await backend.createSession({ name: "plain", bytes: decoderBytes });
  const rewritten = await backend.createSession({
    name: "rows",
    bytes: rewriteKvRows(decoderBytes)!,
  });
  const geometry = { layers, kvHeads, headDim, cacheType: "float32" as const };
  return {
    sessions: [plain, rewritten],
    rewritten,
    copy: new OnnxDecoder(plain, backend.ort, geometry),
    rows: new OnnxDecoder(rewritten, backend.ort, { ...geometry, kvBuffer: "rows" }),
  };
}

let seed = 11;
function rows(n: number) {
  const data = Float32Array.from({ length: n * hidden }, () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  });
  return { rows: n, cols: hidden, data };
}

/** The first `length` tokens of every head of a [1, heads, capacity, headDim] buffer. */
function held(data: Float32Array, capacity: number, length: number): Float32Array {
  const out = new Float32Array(kvHeads * length * headDim);
  for (let h = 0; h < kvHeads; h++) {
    out.set(
      data.subarray(h * capacity * headDim, (h * capacity + length) * headDim),
      h * length * headDim,
    );
  }
  return out;
}

Deno.test("kv rows: the rewritten decoder's present outputs are the new rows only", async () => {
  const { sessions, rewritten } = await decoders();
  const present = rewritten.outputMetadata.find((m) => m.name === "present.0.key");
  assert.ok(present?.isTensor);
  assert.equal(present.shape[2], KV_ROWS_AXIS);
  // Graphs without GQA's present (the vision encoder) are not rewritten.
  assert.equal(rewriteKvRows(fileBytes("vision_encoder.onnx")), undefined);
  await Promise.all(sessions.map((s) => s.release()));
});

Deno.test("kv rows: bit-identical logits and cache to the copying path, through growth and reuse", async () => {
  const { sessions, copy, rows: fast } = await decoders();
  const prompt = rows(5);
  // Room for 6 tokens: the second step grows the buffers, moving the 6 held.
  let a = await copy.step(prompt, copy.emptyCache());
  let b = await fast.step(prompt, fast.emptyCache(6));
  // Same kernel over the same valid rows: GQA reads only seqlens_k + 1 rows of a longer past,
  // so the results are equal bit for bit, not within a tolerance.
  assert.deepEqual(b.logits, a.logits);
  const capacities = new Set<number>();
  for (let step = 0; step < 9; step++) {
    const token = rows(1);
    a = await copy.step(token, a.cache);
    b = await fast.step(token, b.cache);
    assert.deepEqual(b.logits, a.logits);
    capacities.add((b.cache as SharedKvView).buffer.capacity);
  }
  assert.equal(b.cache.length, 14);
  assert.deepEqual([...capacities], [6, 39]);

  // Every layer's buffers hold the copying path's cache row for row: rows written at a wrong
  // offset (or not at all) would differ here even where the logits hid it.
  const buffer = (b.cache as SharedKvView).buffer;
  const copied = (a.cache as unknown as { tensors: Record<string, { data: Float32Array }> })
    .tensors;
  for (const [name, tensor] of Object.entries(buffer.tensors)) {
    assert.deepEqual(held(tensor.data as Float32Array, buffer.capacity, 14), copied[name].data);
  }

  // Prefix reuse: keep 6 tokens and feed another continuation.
  const suffix = rows(3);
  const reusedRows = await fast.step(suffix, b.cache.truncate(6));
  const reusedCopy = await copy.step(suffix, a.cache.truncate(6));
  assert.deepEqual(reusedRows.logits, reusedCopy.logits);
  const next = rows(1);
  assert.deepEqual(
    (await fast.step(next, reusedRows.cache)).logits,
    (await copy.step(next, reusedCopy.cache)).logits,
  );
  // The 14-token view was overwritten after token 6: refused, not read.
  assert.throws(() => b.cache.truncate(3), RangeError);
  await assert.rejects(() => fast.step(rows(1), b.cache), RangeError);
  await Promise.all(sessions.map((s) => s.release()));
});

Deno.test("kv rows: float16 caches (fp16 folder) match the copying path bit for bit", async () => {
  const half = synthesize(getPreset("smolvlm-256m-instruct"), {
    scale: "test",
    seed: 4,
    dtype: "fp16",
  });
  const bytes = half.files.find((f) => f.path.endsWith("decoder_model_merged_fp16.onnx"))!.bytes;
  const backend = await loadBackend({ backend: "wasm", threads: 1 });
  const plain = await backend.createSession({ name: "plain16", bytes });
  const rewritten = await backend.createSession({ name: "rows16", bytes: rewriteKvRows(bytes)! });
  const geometry = { layers, kvHeads, headDim, cacheType: "float16" as const };
  const copy = new OnnxDecoder(plain, backend.ort, geometry);
  const fast = new OnnxDecoder(rewritten, backend.ort, { ...geometry, kvBuffer: "rows" });
  // Room for 5 tokens: the second step grows the buffers.
  const prompt = rows(4);
  let a = await copy.step(prompt, copy.emptyCache());
  let b = await fast.step(prompt, fast.emptyCache(5));
  assert.deepEqual(b.logits, a.logits);
  for (let step = 0; step < 6; step++) {
    const token = rows(1);
    a = await copy.step(token, a.cache);
    b = await fast.step(token, b.cache);
    assert.deepEqual(b.logits, a.logits);
  }
  const buffer = (b.cache as SharedKvView).buffer;
  const copied = (a.cache as unknown as { tensors: Record<string, { data: ArrayBufferView }> })
    .tensors;
  const bits = (v: ArrayBufferView) => new Uint16Array(v.buffer, v.byteOffset, v.byteLength >> 1);
  for (const [name, tensor] of Object.entries(buffer.tensors)) {
    const data = tensor.data as Uint16Array;
    for (let h = 0; h < kvHeads; h++) {
      const from = h * buffer.capacity * headDim;
      assert.deepEqual(
        data.subarray(from, from + 10 * headDim),
        bits(copied[name].data).subarray(h * 10 * headDim, (h + 1) * 10 * headDim),
      );
    }
  }
  await plain.release();
  await rewritten.release();
});

/** Tensors that only hold their data: the buffer logic without a runtime. */
const plainOrt = {
  Tensor: class {
    constructor(readonly type: string, readonly data: unknown, readonly dims: number[]) {}
  },
} as unknown as OrtApi;

Deno.test("kv rows: appending through growth and truncation keeps every held row (property)", () => {
  const heads = 2;
  const dim = 3;
  const op = fc.oneof(
    fc.record({ kind: fc.constant("step" as const), rows: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant("truncate" as const), keep: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.nat({ max: 20 }), fc.array(op, { maxLength: 25 }), (reserve, ops) => {
      const buffer = new SharedKvBuffer(plainOrt, {
        layers: 1,
        kvHeads: heads,
        headDim: dim,
        cacheType: "float32",
      }, 4096);
      let view = buffer.empty(reserve);
      // Reference: the tokens held, per head, as one value per element.
      let expected: number[][] = [[], []];
      let stamp = 1;
      for (const o of ops) {
        if (o.kind === "truncate") {
          const keep = o.keep % (view.length + 1);
          view = view.truncate(keep) as SharedKvView;
          expected = expected.map((h) => h.slice(0, keep * dim));
          continue;
        }
        const fresh = Float32Array.from({ length: heads * o.rows * dim }, () => stamp++);
        const before = view.length;
        view = buffer.begin(view, o.rows);
        const data = buffer.tensors["past_key_values.0.key"].data as Float32Array;
        writeRows(data, buffer.capacity, before, fresh, heads, dim);
        for (let h = 0; h < heads; h++) {
          expected[h].push(...fresh.subarray(h * o.rows * dim, (h + 1) * o.rows * dim));
        }
        if (buffer.capacity < view.length) return false;
      }
      const data = buffer.tensors["past_key_values.0.key"]?.data as Float32Array | undefined;
      for (let h = 0; h < heads; h++) {
        const start = h * buffer.capacity * dim;
        const got = data ? [...data.subarray(start, start + view.length * dim)] : [];
        assert.deepEqual(got, expected[h]);
      }
      return true;
    }),
  );
});

Deno.test("kv rows: writing past the capacity is refused", () => {
  assert.throws(() => writeRows(new Float32Array(12), 2, 2, new Float32Array(6), 2, 3), RangeError);
});

for (const backend of ["wasm", "native"] as const) {
  Deno.test(`kv rows: ${backend} generation picks rows and gives the copying path's ids, with reuse`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      await writeFolderAtomically(join(dir, "model"), built.files, false);
      const image = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;
      const first = { prompt: "Describe the image.", images: [image], maxNewTokens: 40 };
      const second = { prompt: "What is in it?", images: [image], maxNewTokens: 12 };
      const run = async (kvCache: "auto" | "copy") => {
        const model = await loadModel(join(dir, "model"), { backend, threads: 1, kvCache });
        try {
          const a = await model.generate({ ...first, stopTokenIds: [] });
          const b = await model.generate({ ...second, stopTokenIds: [] });
          return {
            kind: model.kvCache,
            a: a.tokenIds,
            b: b.tokenIds,
            reused: b.reusedPrefixTokens,
          };
        } finally {
          await model.dispose();
        }
      };
      const fast = await run("auto");
      const copied = await run("copy");
      assert.equal(fast.kind, "rows");
      assert.equal(copied.kind, "copy");
      assert.ok(fast.reused > 0);
      assert.deepEqual({ ...fast, kind: "" }, { ...copied, kind: "" });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("kv rows: loadModel runs a long prompt in chunks with plain-ops attention, and in one pass with per-run activation scales", async () => {
  const api = await loadBackend({ backend: "native", threads: 1 });
  type Run = (feeds: Record<string, { dims: readonly number[] }>, ...rest: unknown[]) => unknown;
  const sessions = api.ort.InferenceSession as unknown as {
    create: (...args: unknown[]) => Promise<{ inputNames: readonly string[]; run: Run }>;
  };
  const create = sessions.create;
  // The rows of every decoder run.
  const fed: number[] = [];
  sessions.create = async (...args: unknown[]) => {
    const session = await create.apply(sessions, args);
    if (session.inputNames.includes("past_key_values.0.key")) {
      const run = session.run.bind(session);
      session.run = (feeds, ...rest) => {
        fed.push(feeds.inputs_embeds.dims[1]);
        return run(feeds, ...rest);
      };
    }
    return session;
  };
  const dir = await Deno.makeTempDir();
  try {
    const image = new URL("../fixtures/images/sources/tiny.png", import.meta.url).pathname;
    for (const dtype of ["fp32", "int8"] as const) {
      const folder = join(dir, dtype);
      const files =
        synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", seed: 4, dtype })
          .files;
      await writeFolderAtomically(folder, files, false);
      const model = await loadModel(folder, { backend: "native", threads: 1 });
      try {
        fed.length = 0;
        const result = await model.generate({
          prompt: "Describe the image.",
          images: [image],
          maxNewTokens: 1,
        });
        const prompt = result.promptTokens;
        assert.ok(prompt > 2 * PREFILL_CHUNK, `a ${prompt}-token prompt`);
        assert.equal(fed.reduce((a, b) => a + b, 0), prompt, dtype);
        if (dtype === "fp32") {
          assert.ok(fed.length > 1 && Math.max(...fed) <= PREFILL_CHUNK, `fp32 runs: ${fed}`);
        } else assert.deepEqual(fed, [prompt], "int8: one scale per run, one pass");
      } finally {
        await model.dispose();
      }
    }
  } finally {
    sessions.create = create;
    await Deno.remove(dir, { recursive: true });
  }
});

/** Largest |a − b| over the largest |b|: the logits' relative distance. */
function relativeDistance(a: Float32Array, b: Float32Array): number {
  let distance = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    distance = Math.max(distance, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return distance / scale;
}

for (const backend of ["wasm", "native"] as const) {
  Deno.test(`kv rows, attention as plain ops (${backend}): no GQA left, logits of the copying path through growth, truncation and reuse`, async () => {
    const api = await loadBackend({ backend, threads: 1 });
    const opsBytes = rewriteKvRows(decoderBytes, "ops")!;
    const text = new TextDecoder("latin1").decode(opsBytes);
    assert.ok(!text.includes("GroupQueryAttention"));
    assert.ok(text.includes("RotaryEmbedding"));
    const plain = await api.createSession({ name: "plain", bytes: decoderBytes });
    const ops = await api.createSession({ name: "ops", bytes: opsBytes });
    try {
      const present = ops.outputMetadata.find((m) => m.name === "present.0.key");
      assert.ok(present?.isTensor);
      assert.equal(present.shape[2], KV_ROWS_AXIS);
      const geometry = { layers, kvHeads, headDim, cacheType: "float32" as const };
      const copy = new OnnxDecoder(plain, api.ort, geometry);
      const fast = new OnnxDecoder(ops, api.ort, { ...geometry, kvBuffer: "rows" });
      // Not the same kernels: equal to float32 rounding (a wrong mask, scale, rotation or
      // head order moves the logits by whole units).
      const close = (a: Float32Array, b: Float32Array) => assert.ok(relativeDistance(a, b) < 1e-5);
      const prompt = rows(5);
      let a = await copy.step(prompt, copy.emptyCache());
      let b = await fast.step(prompt, fast.emptyCache(6));
      close(b.logits, a.logits);
      for (let step = 0; step < 9; step++) {
        const token = rows(1);
        a = await copy.step(token, a.cache);
        b = await fast.step(token, b.cache);
        close(b.logits, a.logits);
      }
      // Capacity 39 holds 14 rows: the other 25 must be masked.
      assert.equal((b.cache as SharedKvView).buffer.capacity, 39);
      // The 8 rows after the kept 6 still hold the longer conversation's keys and values:
      // attending to them would be a wrong answer, not a rounding difference.
      const suffix = rows(3);
      const reused = await fast.step(suffix, b.cache.truncate(6));
      const reference = await copy.step(suffix, a.cache.truncate(6));
      close(reused.logits, reference.logits);
      const token = rows(1);
      close(
        (await fast.step(token, reused.cache)).logits,
        (await copy.step(token, reference.cache)).logits,
      );
    } finally {
      await plain.release();
      await ops.release();
    }
  });
}

for (const backend of ["wasm", "native"] as const) {
  Deno.test(`kv rows, attention as plain ops (${backend}): a long prompt in chunks gives the one-pass logits and cache`, async () => {
    const api = await loadBackend({ backend, threads: 1 });
    const ops = await api.createSession({
      name: "ops",
      bytes: rewriteKvRows(decoderBytes, "ops")!,
    });
    try {
      const geometry = { layers, kvHeads, headDim, cacheType: "float32" as const };
      const onePass = new OnnxDecoder(ops, api.ort, { ...geometry, kvBuffer: "rows" });
      // Chunks of at most 4 rows once a pass has more than 8: 13 rows run as 4 + 4 + 4 + 1.
      // The rows each run of the chunked decoder is fed.
      const fed: number[] = [];
      const counted = new Proxy(ops, {
        get(target, property) {
          if (property !== "run") {
            const value = Reflect.get(target, property, target);
            return typeof value === "function" ? value.bind(target) : value;
          }
          return (feeds: Record<string, { dims: readonly number[] }>) => {
            fed.push(feeds.inputs_embeds.dims[1]);
            return target.run(feeds as never);
          };
        },
      });
      const chunked = new OnnxDecoder(counted, api.ort, {
        ...geometry,
        kvBuffer: "rows",
        prefillChunk: 4,
      });
      const close = (a: Float32Array, b: Float32Array) => assert.ok(relativeDistance(a, b) < 1e-5);
      const prompt = rows(13);
      let a = await onePass.step(prompt, onePass.emptyCache(16));
      let b = await chunked.step(prompt, chunked.emptyCache(16));
      close(b.logits, a.logits);
      assert.deepEqual(fed, [4, 4, 4, 1]);
      assert.equal(b.cache.length, 13);
      // Every held row matches: a chunk that missed the rows before it would change them.
      for (const name of ["past_key_values.0.key", `past_key_values.${layers - 1}.value`]) {
        const viewA = a.cache as SharedKvView;
        const viewB = b.cache as SharedKvView;
        close(
          held(viewB.buffer.tensors[name].data as Float32Array, viewB.buffer.capacity, 13),
          held(viewA.buffer.tensors[name].data as Float32Array, viewA.buffer.capacity, 13),
        );
      }
      for (let step = 0; step < 3; step++) {
        const token = rows(1);
        a = await onePass.step(token, a.cache);
        b = await chunked.step(token, b.cache);
        close(b.logits, a.logits);
      }
      // A long continuation after a kept prefix runs in chunks too, over that prefix.
      const suffix = rows(10);
      fed.length = 0;
      close(
        (await chunked.step(suffix, b.cache.truncate(7))).logits,
        (await onePass.step(suffix, a.cache.truncate(7))).logits,
      );
      assert.deepEqual(fed, [4, 4, 2]);
    } finally {
      await ops.release();
    }
  });
}

Deno.test("kv rows: the rewrite says whether activations take one scale per run (prompts then run in one pass)", () => {
  const decoderOf = (dtype: "fp32" | "int8" | "q4") => {
    const files = synthesize(getPreset("smolvlm-256m-instruct"), { scale: "test", seed: 4, dtype })
      .files;
    return files.find((f) => /decoder_model_merged[^/]*\.onnx$/.test(f.path))!.bytes;
  };
  assert.deepEqual(
    [
      kvRowsForm(decoderOf("fp32"), "ops")?.perRunScales,
      kvRowsForm(decoderOf("fp32"), "ops")?.attention,
    ],
    [false, "ops"],
  );
  // The builder's int8 quantizes each matmul's input with one scale over all its rows.
  assert.equal(kvRowsForm(decoderOf("int8"), "ops")?.perRunScales, true);
  // MatMulNBits quantizes each row by itself (accuracy level 4).
  assert.equal(kvRowsForm(decoderOf("q4"), "ops")?.perRunScales, false);
});

Deno.test("kv rows: the leading rows read back what was written (property)", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 5 }),
    fc.integer({ min: 0, max: 12 }),
    fc.nat({ max: 6 }),
    (heads, dim, count, slack) => {
      const capacity = count + slack;
      const buffer = Float32Array.from({ length: heads * capacity * dim }, () => -1);
      const written = Float32Array.from({ length: heads * count * dim }, (_, i) => i);
      writeRows(buffer, capacity, 0, written, heads, dim);
      assert.deepEqual(leadingRows(buffer, capacity, count, heads, dim), written);
      assert.throws(() => leadingRows(buffer, capacity, capacity + 1, heads, dim), RangeError);
    },
  ));
});

Deno.test("kv rows, attention as plain ops: graphs it does not cover keep GQA", () => {
  const half = synthesize(getPreset("smolvlm-256m-instruct"), {
    scale: "test",
    seed: 4,
    dtype: "fp16",
  });
  const bytes = half.files.find((f) => f.path.endsWith("decoder_model_merged_fp16.onnx"))!.bytes;
  // float16 presents come through a Cast of GQA's: the Slice form, with GQA kept.
  const rewritten = rewriteKvRows(bytes, "ops")!;
  assert.ok(new TextDecoder("latin1").decode(rewritten).includes("GroupQueryAttention"));
  assert.deepEqual(rewritten, rewriteKvRows(bytes, "gqa"));
});

Deno.test("kv rows: a native decoder with external data keeps the in-place buffer, with the copying path's ids", async () => {
  const external = synthesize(getPreset("smolvlm-256m-instruct"), {
    scale: "test",
    seed: 4,
    externalData: "always",
  });
  assert.ok(external.files.some((f) => f.path.endsWith("decoder_model_merged.onnx_data")));
  const dir = await Deno.makeTempDir();
  try {
    await writeFolderAtomically(join(dir, "inline"), built.files, false);
    await writeFolderAtomically(join(dir, "external"), external.files, false);
    const request = { prompt: "Describe the image.", maxNewTokens: 24, stopTokenIds: [] };
    const run = async (folder: string, kvCache: "auto" | "copy") => {
      const model = await loadModel(join(dir, folder), { backend: "native", threads: 1, kvCache });
      try {
        return { kind: model.kvCache, ids: (await model.generate(request)).tokenIds };
      } finally {
        await model.dispose();
      }
    };
    const shared = await run("external", "auto");
    const rowsForm = await run("inline", "auto");
    const copied = await run("inline", "copy");
    // ONNX Runtime reads an external-data decoder itself, so the graph is not rewritten.
    assert.equal(shared.kind, "shared");
    assert.equal(rowsForm.kind, "rows");
    assert.equal(copied.kind, "copy");
    assert.deepEqual(shared.ids, copied.ids);
    assert.deepEqual(rowsForm.ids, copied.ids);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
