// The wasm backend's re-pack of 4-bit MatMulNBits weights to int8: the pure re-pack stays
// within half an int8 step of the 4-bit weight, the rewritten graph computes the same
// product, forms it does not cover are left as they are, and a q4 model re-packed on wasm
// agrees with native q4. (The protobuf wire code is tested in test/onnx/.)
import assert from "node:assert/strict";
import fc from "fast-check";
import { GraphBuilder } from "../../src/build/onnx_graph.ts";
import { decodeModel, serializeModel } from "../../src/build/onnx_file.ts";
import {
  dequantizeBnb4,
  dequantizeQ4,
  quantizeBnb4,
  quantizeQ4,
} from "../../src/build/quantize.ts";
import { dequantizeBnb4Column } from "../../src/runtime/bnb4_weight.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import {
  dequantizeNBitsColumn,
  type NBitsWeight,
  REPACK_LEVELS,
  repackNBitsToInt8,
} from "../../src/runtime/nbits_repack.ts";
import { rewriteMatMulNBits } from "../../src/runtime/nbits_rewrite.ts";
import { seededRandom } from "../../src/runtime/rng.ts";

const nbitsWeight = fc
  .record({
    k: fc.integer({ min: 1, max: 80 }),
    n: fc.integer({ min: 1, max: 6 }),
    blockSize: fc.constantFrom(16, 32, 64),
    zeros: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ k, n, blockSize, zeros, seed }): NBitsWeight => {
    const random = seededRandom(seed);
    const blocks = Math.ceil(k / blockSize);
    const byte = () => Math.floor(random() * 256);
    return {
      k,
      n,
      blockSize,
      packed: Uint8Array.from({ length: n * blocks * blockSize / 2 }, byte),
      // Scales spread over three decades, as blocks of one column can be.
      scales: Float32Array.from({ length: n * blocks }, () => 10 ** (-3 * random()) * random()),
      zeroPoints: zeros ? Uint8Array.from({ length: n * Math.ceil(blocks / 2) }, byte) : undefined,
    };
  });

Deno.test("q4 re-pack: every int8 value is within half a column step of its 4-bit value", () => {
  fc.assert(
    fc.property(nbitsWeight, fc.constantFrom(REPACK_LEVELS, 63), (w, levels) => {
      const q = repackNBitsToInt8(w, levels);
      const column = new Float32Array(w.k);
      for (let col = 0; col < w.n; col++) {
        dequantizeNBitsColumn(w, col, column);
        const scale = q.scales[col];
        for (let row = 0; row < w.k; row++) {
          const v = q.values[row * w.n + col];
          assert.ok(Math.abs(v) <= levels);
          const error = Math.abs(v * scale - column[row]);
          // Half a step, plus the float32 rounding of the stored scale (≤ levels ulps).
          const bound = scale / 2 + levels * scale * 2 ** -22;
          assert.ok(error <= bound, `${error} > ${bound}`);
        }
      }
    }),
  );
});

Deno.test("q4 re-pack: the column reading agrees with the builder's q4 dequantization", () => {
  const random = seededRandom(3);
  const [k, n] = [70, 5];
  const q = quantizeQ4({ dims: [k, n], data: Float32Array.from({ length: k * n }, random) });
  const w = { k, n, blockSize: 32, packed: q.packed, scales: q.scales, zeroPoints: q.zeroPoints };
  const reference = dequantizeQ4(q);
  const column = new Float32Array(k);
  for (let col = 0; col < n; col++) {
    dequantizeNBitsColumn(w, col, column);
    for (let row = 0; row < k; row++) assert.equal(column[row], reference[row * n + col]);
  }
  assert.throws(() => repackNBitsToInt8({ ...w, scales: w.scales.subarray(1) }), RangeError);
});

Deno.test("bnb4 re-pack: the column reading agrees with the builder's NF4 and FP4 dequantization", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 70 }),
    fc.integer({ min: 1, max: 5 }),
    fc.constantFrom("nf4" as const, "fp4" as const),
    fc.integer(),
    (k, n, type, seed) => {
      const random = seededRandom(seed);
      const data = Float32Array.from({ length: k * n }, () => random() * 2 - 1);
      const q = quantizeBnb4({ dims: [k, n], data }, type);
      const reference = dequantizeBnb4(q);
      const w = {
        k,
        n,
        blockSize: 64,
        quantType: type === "nf4" ? 1 : 0,
        packed: q.packed,
        absmax: q.absmax,
      };
      const column = new Float32Array(k);
      for (let col = 0; col < n; col++) {
        dequantizeBnb4Column(w, col, column);
        for (let row = 0; row < k; row++) assert.equal(column[row], reference[row * n + col]);
      }
    },
  ));
});

/** One MatMulNBits `[m, k] · [k, n]` in a graph, with the weights the builder's q4 makes. */
function nbitsModel(
  k: number,
  n: number,
  attrs: Record<string, number> = {},
  extraInputs: string[] = [],
) {
  const random = seededRandom(11);
  const data = Float32Array.from({ length: k * n }, () => (random() * 2 - 1) * 0.1);
  const q = quantizeQ4({ dims: [k, n], data });
  const g = new GraphBuilder("t");
  const x = g.input("x", "float32", ["m", k]);
  const inputs = [
    x,
    g.weight("B", { type: "uint8", dims: [n, q.blocks, 16], data: q.packed }),
    g.weight("scales", { type: "float32", dims: [n * q.blocks], data: q.scales }),
    g.weight("zp", { type: "uint8", dims: [q.zeroPoints.length], data: q.zeroPoints }),
    ...extraInputs.map((name) =>
      name && g.weight(name, { type: "float32", dims: [n], data: new Float32Array(n).fill(0.5) })
    ),
  ];
  const y = g.op("MatMulNBits", inputs, {
    K: k,
    N: n,
    bits: 4,
    block_size: 32,
    accuracy_level: 4,
    ...attrs,
  }, { domain: "com.microsoft" });
  g.output(y, "y", "float32", ["m", n]);
  return { bytes: serializeModel(g.toModel()).model, weight: dequantizeQ4(q) };
}

async function run(bytes: Uint8Array, backendName: "native" | "wasm", x: Float32Array, k: number) {
  const backend = await loadBackend({ backend: backendName });
  const session = await backend.createSession({ name: "t", bytes });
  try {
    const out = await session.run({ x: new backend.ort.Tensor("float32", x, [x.length / k, k]) });
    return out.y.data as Float32Array;
  } finally {
    await session.release();
  }
}

Deno.test("q4 re-pack: the rewritten graph has no MatMulNBits and computes the product on both backends", async () => {
  const [k, n, m] = [96, 24, 4];
  const { bytes, weight } = nbitsModel(k, n);
  const r = rewriteMatMulNBits(bytes);
  assert.equal(r.rewritten, 1);
  assert.deepEqual(r.kept, []);
  const model = decodeModel(r.bytes);
  const ops = model.graph!.node!.map((node) => node.opType);
  assert.ok(!ops.includes("MatMulNBits") && ops.includes("MatMulInteger"), ops.join());
  const names = model.graph!.initializer!.map((t) => t.name);
  assert.ok(!names.includes("B") && !names.includes("scales"), "4-bit initializers dropped");

  const random = seededRandom(5);
  const x = Float32Array.from({ length: m * k }, () => random() * 2 - 1);
  // Reference: x · the 4-bit weight, in float64.
  const reference = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      for (let t = 0; t < k; t++) reference[i * n + j] += x[i * k + t] * weight[t * n + j];
    }
  }
  const scale = Math.max(...reference.map(Math.abs));
  for (const backend of ["native", "wasm"] as const) {
    const original = await run(bytes, backend, x, k);
    const repacked = await run(r.bytes, backend, x, k);
    for (let i = 0; i < m * n; i++) {
      // uint8 activations and int8 weights: each within ~1 % of the largest output here.
      assert.ok(Math.abs(repacked[i] - reference[i]) < 0.03 * scale, `${backend} ${i}`);
      assert.ok(Math.abs(repacked[i] - original[i]) < 0.03 * scale, `${backend} ${i}`);
    }
  }
});

Deno.test("q4 re-pack: weights in an external data file are read from it", async () => {
  const [k, n] = [128, 32]; // B is 2 KiB: past the size that moves to external data
  const { bytes } = nbitsModel(k, n);
  const split = serializeModel(decodeModel(bytes), "m.onnx_data");
  assert.ok(split.data && split.data.length > 0);
  const missing = rewriteMatMulNBits(split.model);
  assert.equal(missing.rewritten, 0);
  assert.match(missing.kept[0].reason, /m\.onnx_data was not given/);
  const r = rewriteMatMulNBits(split.model, [{ path: "m.onnx_data", data: split.data }]);
  assert.equal(r.rewritten, 1);
  const x = Float32Array.from({ length: k }, (_, i) => Math.sin(i));
  const inline = rewriteMatMulNBits(bytes);
  assert.deepEqual(await run(r.bytes, "native", x, k), await run(inline.bytes, "native", x, k));
});

Deno.test("q4 re-pack: forms it does not cover are left as they are, named with the reason", () => {
  const bias = nbitsModel(64, 8, {}, ["", "bias"]);
  const withBias = rewriteMatMulNBits(bias.bytes);
  assert.equal(withBias.bytes, bias.bytes);
  assert.equal(withBias.rewritten, 0);
  assert.match(withBias.kept[0].reason, /bias/);
  const eight = rewriteMatMulNBits(nbitsModel(64, 8, { bits: 8 }).bytes);
  assert.equal(eight.rewritten, 0);
  assert.match(eight.kept[0].reason, /bits 8/);
  const odd = rewriteMatMulNBits(nbitsModel(64, 8, { block_size: 24 }).bytes);
  assert.match(odd.kept[0].reason, /block_size 24/);
  // Bytes that are no model at all: nothing to rewrite.
  const plain = new GraphBuilder("t");
  plain.output(plain.input("x", "float32", [1]), "y", "float32", [1]);
  const none = serializeModel(plain.toModel()).model;
  assert.equal(rewriteMatMulNBits(none).bytes, none);
});
