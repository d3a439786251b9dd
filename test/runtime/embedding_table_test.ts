// The embedding table gathered in JS (no ONNX Runtime session): the same float32 bits as the
// embed_tokens session for every form the builder writes and the published quantized forms,
// only the rows a call needs read from disk, the session kept for graphs it does not
// recognise, a truncated data file named in a typed error, and the same greedy ids as before.
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import type { WeightFormat } from "../../src/build/layers/ops.ts";
import { WEIGHT_FORMATS } from "../../src/build/layers/ops.ts";
import { GraphBuilder } from "../../src/build/onnx_graph.ts";
import { serializeModel } from "../../src/build/onnx_file.ts";
import { synthesize, type SynthesizedFile } from "../../src/build/synthesize.ts";
import { VlmError } from "../../src/errors/vlm_error.ts";
import { OnnxEmbedder } from "../../src/modules/onnx_embedder.ts";
import type { Embedder } from "../../src/modules/types.ts";
import { detectPlatform, setPlatform } from "../../src/platform/current.ts";
import { type Backend, loadBackend } from "../../src/runtime/backend.ts";
import { FILE_MERGE_GAP_BYTES } from "../../src/modules/row_reads.ts";
import { openEmbeddingTable } from "../../src/runtime/embedding_table.ts";
import { loadModel } from "../../src/runtime/load_model.ts";
import type { ModelFolder } from "../../src/runtime/model_folder.ts";
import { seededRandom } from "../../src/runtime/rng.ts";
import { writeFolderAtomically } from "../../tools/cli/folder_writer.ts";
import { getPreset } from "../../variants/mod.ts";

const TINY = new URL("../../models/tiny-smolvlm/", import.meta.url).pathname;
const PRESET = "smolvlm-256m-instruct";
const backends: Record<string, Promise<Backend>> = {};
const backend = (name: "native" | "wasm") => backends[name] ??= loadBackend({ backend: name });

function build(dtype: WeightFormat, externalData: "auto" | "always" = "auto"): SynthesizedFile[] {
  return synthesize(getPreset(PRESET), { scale: "test", seed: 3, dtype, externalData }).files;
}

/** A folder served from memory (no local paths: the table is held as bytes); counts reads. */
function memoryFolder(
  files: readonly SynthesizedFile[],
  reads = new Map<string, number>(),
): ModelFolder {
  const byPath = new Map(files.map((f) => [f.path, f.bytes]));
  return {
    location: "memory",
    read: (path) => {
      reads.set(path, (reads.get(path) ?? 0) + 1);
      return Promise.resolve(byPath.get(path));
    },
  };
}

function embedPath(files: readonly SynthesizedFile[]): string {
  return files.find((f) => /^onnx\/embed_tokens[^/]*\.onnx$/.test(f.path))!.path;
}

async function sessionEmbedder(
  files: readonly SynthesizedFile[],
  path: string,
  name: "native" | "wasm",
): Promise<{ embedder: Embedder; release: () => Promise<void> }> {
  const b = await backend(name);
  const bytes = files.find((f) => f.path === path)!.bytes.slice();
  const data = files.find((f) => f.path === `${path}_data`)?.bytes.slice();
  const session = await b.createSession({
    name: path,
    bytes,
    externalData: data ? [{ path: `${path.split("/").pop()}_data`, data }] : undefined,
  });
  return { embedder: new OnnxEmbedder(session, b.ort), release: () => session.release() };
}

const bits = (data: Float32Array) => new Uint32Array(data.buffer, data.byteOffset, data.length);

/** fast-check: for drawn ids (negative placeholders and repeats included), equal float32 bits. */
async function assertSameBits(a: Embedder, b: Embedder, vocab: number, label: string) {
  const id = fc.oneof(
    fc.integer({ min: 0, max: vocab - 1 }),
    // Ids close together: rows read through a merged read's gaps.
    fc.integer({ min: 0, max: Math.min(vocab - 1, 300) }),
    fc.integer({ min: -300, max: -1 }),
    fc.constantFrom(0, 1, vocab - 1),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(id, { minLength: 1, maxLength: 40 }), async (ids) => {
      const [x, y] = await Promise.all([a.embed(ids), b.embed(ids)]);
      assert.equal(x.rows, ids.length);
      assert.equal(x.cols, y.cols);
      assert.deepEqual(bits(x.data), bits(y.data), `${label}: ids ${ids}`);
    }),
    { numRuns: 40 },
  );
}

async function withDir<T>(files: readonly SynthesizedFile[], body: (dir: string) => Promise<T>) {
  const dir = await Deno.makeTempDir();
  try {
    await writeFolderAtomically(join(dir, "model"), [...files], false);
    return await body(join(dir, "model"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("table embedder: same float32 bits as the session, every builder dtype, disk and memory", async () => {
  for (const dtype of WEIGHT_FORMATS) {
    const files = build(dtype, dtype === "int8" ? "always" : "auto");
    const path = embedPath(files);
    const vocab = 49280;
    const memory = await openEmbeddingTable(memoryFolder(files), path);
    assert.ok(memory, `${dtype}: recognised`);
    await withDir(files, async (dir) => {
      const { openModelFolder } = await import("../../src/runtime/model_folder.ts");
      const disk = await openEmbeddingTable(openModelFolder(dir), path);
      assert.ok(disk, `${dtype}: recognised on disk`);
      for (const name of ["native", "wasm"] as const) {
        const session = await sessionEmbedder(files, path, name);
        try {
          await assertSameBits(memory.embedder, session.embedder, vocab, `${dtype} memory/${name}`);
          await assertSameBits(disk.embedder, session.embedder, vocab, `${dtype} disk/${name}`);
        } finally {
          await session.release();
        }
      }
      await disk.embedder.release();
    });
    await memory.embedder.release();
  }
});

/** The published dynamic-quantizer form and a plain float16 gather, built by hand. */
function publishedEmbed(
  form: "uint8" | "int8" | "fp16" | "fp16_widened" | "extra_op",
): SynthesizedFile[] {
  const [vocab, hidden] = [300, 24];
  const rng = seededRandom(11);
  const g = new GraphBuilder("embed_tokens");
  const ids = g.input("input_ids", "int64", ["batch_size", "sequence_length"]);
  let out: string;
  let type: "float32" | "float16" = "float32";
  if (form === "fp16" || form === "fp16_widened") {
    const data = Uint16Array.from({ length: vocab * hidden }, () => Math.floor(rng() * 0xffff));
    // No NaN or infinity: their bits are not what this compares.
    data.forEach((h, i) => (h & 0x7c00) === 0x7c00 && (data[i] = h & 0x83ff));
    const table = g.weight("embed.weight", { type: "float16", dims: [vocab, hidden], data });
    out = g.op("Gather", [table, ids], { axis: 0 });
    if (form === "fp16") type = "float16";
    else out = g.op("Cast", [out], { to: 1 });
  } else if (form === "extra_op") {
    const data = Float32Array.from({ length: vocab * hidden }, () => rng() - 0.5);
    const table = g.weight("embed.weight", { type: "float32", dims: [vocab, hidden], data });
    out = g.op("Mul", [g.op("Gather", [table, ids], { axis: 0 }), g.scalar(2)]);
  } else {
    const signed = form === "int8";
    const data = signed
      ? Int8Array.from({ length: vocab * hidden }, () => Math.floor(rng() * 256) - 128)
      : Uint8Array.from({ length: vocab * hidden }, () => Math.floor(rng() * 256));
    const table = signed
      ? g.weight("w_quantized", { type: "int8", dims: [vocab, hidden], data: data as Int8Array })
      : g.weight("w_quantized", { type: "uint8", dims: [vocab, hidden], data: data as Uint8Array });
    const scale = g.weight("w_scale", { type: "float32", dims: [], data: Float32Array.of(0.0173) });
    const zp = signed
      ? g.weight("w_zero_point", { type: "int8", dims: [], data: Int8Array.of(-3) })
      : g.weight("w_zero_point", { type: "uint8", dims: [], data: Uint8Array.of(131) });
    out = g.op("DequantizeLinear", [g.op("Gather", [table, ids], { axis: 0 }), scale, zp]);
  }
  g.output(out, "inputs_embeds", type, ["batch_size", "sequence_length", hidden]);
  return [{ path: "onnx/embed_tokens.onnx", bytes: serializeModel(g.toModel()).model }];
}

Deno.test("table embedder: published forms (DequantizeLinear int8/uint8, float16 gather, widened) match the session bits", async () => {
  for (const form of ["uint8", "int8", "fp16", "fp16_widened"] as const) {
    const files = publishedEmbed(form);
    const table = await openEmbeddingTable(memoryFolder(files), "onnx/embed_tokens.onnx");
    assert.ok(table, `${form}: recognised`);
    assert.equal(table.output, form === "fp16" ? "float16" : "float32");
    for (const name of ["native", "wasm"] as const) {
      const session = await sessionEmbedder(files, "onnx/embed_tokens.onnx", name);
      try {
        await assertSameBits(table.embedder, session.embedder, 300, `${form}/${name}`);
      } finally {
        await session.release();
      }
    }
  }
});

/** A GatherBlockQuantized embedding (ONNX Runtime's block layout), built by hand. */
function blockQuantizedEmbed(
  storage: "uint8" | "uint4" | "int4",
  bits: 4 | 8,
  zeroPoints: boolean,
): SynthesizedFile[] {
  const [vocab, hidden, blockSize] = [300, 40, 16]; // 3 blocks a row, the last one partial
  const blocks = Math.ceil(hidden / blockSize);
  const rng = seededRandom(bits * 10 + (zeroPoints ? 1 : 0));
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
  const g = new GraphBuilder("embed_tokens");
  const ids = g.input("input_ids", "int64", ["batch_size", "sequence_length"]);
  const width = bits === 4 ? hidden / 2 : hidden;
  const table = g.weight("w_q", {
    type: "uint8",
    dims: [vocab, width],
    data: bytes(vocab * width),
  });
  const scaleData = Float32Array.from({ length: vocab * blocks }, () => rng() * 0.1 + 1e-3);
  const scales = g.weight("w_scales", { type: "float32", dims: [vocab, blocks], data: scaleData });
  const inputs = [table, ids, scales];
  // uint8 4-bit zero points are packed per row; uint4/int4 ones over the whole tensor.
  const zpBytes = storage === "uint8"
    ? vocab * (bits === 4 ? Math.ceil(blocks / 2) : blocks)
    : Math.ceil((vocab * blocks) / 2);
  if (zeroPoints) {
    inputs.push(g.weight("w_zp", { type: "uint8", dims: [zpBytes], data: bytes(zpBytes) }));
  }
  const out = g.op("GatherBlockQuantized", inputs, {
    gather_axis: 0,
    quantize_axis: 1,
    block_size: blockSize,
    ...(storage === "uint8" ? { bits } : {}),
  }, { domain: "com.microsoft" });
  g.output(out, "inputs_embeds", "float32", ["batch_size", "sequence_length", hidden]);
  const model = g.toModel();
  const type = { uint8: 2, uint4: 21, int4: 22 }[storage];
  for (const t of model.graph!.initializer!) {
    if (t.name === "w_q" && storage !== "uint8") {
      Object.assign(t, { dataType: type, dims: [vocab, hidden] });
    }
    if (t.name === "w_zp") {
      const zpDims = storage === "uint8" ? [vocab, zpBytes / vocab] : [vocab, blocks];
      Object.assign(t, { dataType: type, dims: zpDims });
    }
  }
  return [{ path: "onnx/embed_tokens.onnx", bytes: serializeModel(model).model }];
}

Deno.test("table embedder: GatherBlockQuantized (uint8 4/8-bit, uint4, int4; with and without zero points) matches the session bits", async () => {
  const cases = [
    ["uint8", 4, true],
    ["uint8", 4, false],
    ["uint8", 8, true],
    ["uint8", 8, false],
    ["uint4", 4, true],
    ["int4", 4, true],
    ["int4", 4, false],
  ] as const;
  for (const [storage, bits, zp] of cases) {
    const label = `${storage}/${bits}/${zp ? "zp" : "no zp"}`;
    const files = blockQuantizedEmbed(storage, bits, zp);
    const table = await openEmbeddingTable(memoryFolder(files), "onnx/embed_tokens.onnx");
    assert.ok(table, `${label}: recognised`);
    for (const name of ["native", "wasm"] as const) {
      const session = await sessionEmbedder(files, "onnx/embed_tokens.onnx", name);
      try {
        await assertSameBits(table.embedder, session.embedder, 300, `${label}/${name}`);
      } finally {
        await session.release();
      }
    }
  }
});

Deno.test("table embedder: a graph with another op is not recognised, and loadModel keeps its session", async () => {
  const odd = publishedEmbed("extra_op");
  assert.equal(await openEmbeddingTable(memoryFolder(odd), "onnx/embed_tokens.onnx"), undefined);
  // The same kind of graph inside a model folder: its session runs it (rows doubled), so the
  // text differs from the plain table's, where a gather that ignored the Mul would not.
  const files = build("fp32");
  const path = embedPath(files);
  const plain = await openEmbeddingTable(memoryFolder(files), path);
  assert.ok(plain);
  const g = new GraphBuilder("embed_tokens");
  const ids = g.input("input_ids", "int64", ["batch_size", "sequence_length"]);
  const rows = await plain.embedder.embed(Array.from({ length: 49280 }, (_, i) => i));
  const table = g.weight("embed.weight", { type: "float32", dims: [49280, 48], data: rows.data });
  g.output(
    g.op("Mul", [g.op("Gather", [table, ids], { axis: 0 }), g.scalar(8)]),
    "inputs_embeds",
    "float32",
    ["batch_size", "sequence_length", 48],
  );
  const swapped = files.map((f) =>
    f.path === path ? { ...f, bytes: serializeModel(g.toModel()).model } : f
  );
  assert.equal(await openEmbeddingTable(memoryFolder(swapped), path), undefined);
  const reads = new Map<string, number>();
  const scaled = await greedy(memoryFolder(swapped, reads), "native", "table");
  assert.equal(reads.get(path), 1, "the session is made from the bytes read for the outline");
  assert.deepEqual(scaled, await greedy(memoryFolder(swapped), "native", "session"));
  assert.notDeepEqual(scaled, await greedy(memoryFolder(files), "native", "table"));
});

Deno.test("table embedder: on disk, nearby rows share a read and far ones do not", async () => {
  const files = build("fp32");
  const path = embedPath(files);
  await withDir(files, async (dir) => {
    const host = detectPlatform();
    let reads = 0;
    let bytes = 0;
    setPlatform({
      ...host,
      openReadOnly(p) {
        const file = host.openReadOnly!(p);
        return file && {
          size: file.size,
          close: () => file.close(),
          readAt(buffer, position) {
            reads++;
            bytes += buffer.length;
            return file.readAt(buffer, position);
          },
        };
      },
    });
    try {
      const { openModelFolder } = await import("../../src/runtime/model_folder.ts");
      const table = await openEmbeddingTable(openModelFolder(dir), path);
      assert.ok(table);
      const size = files.find((f) => f.path === path)!.bytes.length;
      assert.ok(bytes < size / 20, `opening read ${bytes} of ${size} bytes`);
      reads = 0;
      bytes = 0;
      // Rows 0 (the placeholder), 3–5 and 9 (twice) are within FILE_MERGE_GAP_BYTES of each
      // other: one read of rows 0–9. Row 2000 is 1990 rows (382 kB) further: a read of its own.
      const rowBytes = 48 * 4;
      assert.ok(1990 * rowBytes > FILE_MERGE_GAP_BYTES && 3 * rowBytes <= FILE_MERGE_GAP_BYTES);
      const ids = [3, 4, 5, 9, 9, -200, 2000];
      const out = await table.embedder.embed(ids);
      assert.equal(out.rows, 7);
      assert.equal(reads, 2);
      assert.equal(bytes, 11 * rowBytes);
      // The gap rows were read but not returned: each output row is its own id's.
      const single = await table.embedder.embed([9]);
      assert.deepEqual(out.data.subarray(3 * 48, 4 * 48), single.data);
      await table.embedder.release();
    } finally {
      setPlatform(undefined);
    }
  });
});

Deno.test("table embedder: a truncated external data file is a model_invalid error naming it", async () => {
  const files = build("int8", "always");
  const path = embedPath(files);
  const dataPath = `${path}_data`;
  for (const keep of [0.5, 0.999]) {
    const cut = files.map((f) =>
      f.path === dataPath ? { ...f, bytes: f.bytes.slice(0, Math.floor(f.bytes.length * keep)) } : f
    );
    await assert.rejects(
      openEmbeddingTable(memoryFolder(cut), path),
      (e: unknown) =>
        e instanceof VlmError && e.code === "model_invalid" && e.message.includes(dataPath) &&
        /truncated/.test(e.message) && (e.fix ?? "").includes(dataPath),
    );
    await withDir(cut, async (dir) => {
      await assert.rejects(
        loadModel(dir, { backend: "native" }),
        (e: unknown) =>
          e instanceof VlmError && e.code === "model_invalid" && e.message.includes(dataPath),
      );
    });
  }
  const missing = files.filter((f) => f.path !== dataPath);
  await assert.rejects(
    openEmbeddingTable(memoryFolder(missing), path),
    (e: unknown) => e instanceof VlmError && e.message.includes(dataPath),
  );
});

async function greedy(
  source: string | ModelFolder,
  name: "native" | "wasm",
  embedding: "table" | "session",
  dtype: WeightFormat = "fp32",
): Promise<number[]> {
  const model = await loadModel(source, { backend: name, embedding, dtype });
  try {
    const out = await model.generate({
      prompt: "Describe the picture in a few words.",
      maxNewTokens: 8,
      stopTokenIds: [],
    });
    return out.tokenIds;
  } finally {
    await model.dispose();
  }
}

Deno.test("table embedder: same greedy ids as the session on the shipped tiny model, wasm and native", async () => {
  for (const name of ["native", "wasm"] as const) {
    const want = await greedy(TINY, name, "session");
    assert.equal(want.length, 8);
    assert.deepEqual(await greedy(TINY, name, "table"), want, name);
  }
});

Deno.test("table embedder: same greedy ids as the session on a test-scale model of every dtype", async () => {
  for (const dtype of WEIGHT_FORMATS) {
    const files = build(dtype);
    await withDir(files, async (dir) => {
      for (const name of ["native", "wasm"] as const) {
        const want = await greedy(dir, name, "session", dtype);
        assert.deepEqual(await greedy(dir, name, "table", dtype), want, `${dtype}/${name} disk`);
        assert.deepEqual(
          await greedy(memoryFolder(files), name, "table", dtype),
          want,
          `${dtype}/${name} memory`,
        );
      }
    });
  }
});
