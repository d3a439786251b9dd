// The vision tower's fused attention (one QKV matmul, com.microsoft MultiHeadAttention, the
// padded-patch mask behind an If) against the float64 reference, on the native and the wasm
// backend, with a partly padded tile and with every patch valid. The same check run on the
// graph with a wrong attention scale or without the mask must fail, so it guards both.
import assert from "node:assert/strict";
import onnxProto from "onnx-proto";
import { hfVisionEncoderGraph } from "../../src/build/module_graphs.ts";
import { serializeModel } from "../../src/build/onnx_file.ts";
import type { VisionAttention } from "../../src/build/layers/vit_attention.ts";
import { loadBackend } from "../../src/runtime/backend.ts";
import { resolve } from "../../src/spec/resolve.ts";
import { refProjector } from "./reference/projectors.ts";
import { refVisionFeatures, type ValidKey } from "./reference/vision.ts";
import { assertClose, isClose, pseudoRandom, tinySpec } from "./_harness.ts";

type Model = onnxProto.onnx.IModelProto;
type Node = onnxProto.onnx.INodeProto;

const BASE = tinySpec(
  "smolvlm-256m-instruct",
  { imageSize: 16, patchSize: 4 },
  { tileSize: 16, longestEdge: 32, maxTiles: 5 },
  { kind: "pixel-shuffle-linear", scaleFactor: 2 },
);
const SPEC = { ...BASE, artifacts: { ...BASE.artifacts, layout: "hf-idefics3" as const } };
const PLAN = resolve(SPEC);
const T = SPEC.image.tileSize;
const SIDE = PLAN.encoder.patchGridSide;
const IMAGES = 2;

/** Every node of the graph, those inside `If` branches included. */
function allNodes(nodes: Node[] | null | undefined): Node[] {
  return (nodes ?? []).flatMap((n) => [
    n,
    ...(n.attribute ?? []).flatMap((a) => (a.g ? allNodes(a.g.node) : [])),
  ]);
}

function build(attention: VisionAttention) {
  const built = hfVisionEncoderGraph(PLAN, { seed: 3, format: "fp32", visionAttention: attention });
  return { model: built.graph.toModel(), weights: built.weights };
}

/** Image 0: only its left half is image (pixel columns < T/2); image 1: whole. */
function inputs(padded: boolean) {
  const pixels = pseudoRandom(IMAGES * 3 * T * T, 17);
  const mask = new Uint8Array(IMAGES * T * T).fill(1);
  if (padded) {
    for (let y = 0; y < T; y++) mask.fill(0, y * T + T / 2, (y + 1) * T);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < T; y++) pixels.fill(0, (c * T + y) * T + T / 2, (c * T + y + 1) * T);
    }
  }
  // Patch columns 0 and 1 of image 0 hold its pixels.
  const valid: ValidKey = (tile, key) => !padded || tile === 1 || key % SIDE < SIDE / 2;
  return { pixels, mask, valid };
}

async function run(backendName: "native" | "wasm", model: Model, padded: boolean) {
  const backend = await loadBackend({ backend: backendName, threads: 1 });
  const session = await backend.createSession({
    name: `vision_encoder (${backendName})`,
    bytes: serializeModel(model).model,
  });
  const { pixels, mask } = inputs(padded);
  try {
    const out = await session.run({
      pixel_values: new backend.ort.Tensor("float32", pixels, [1, IMAGES, 3, T, T]),
      pixel_attention_mask: new backend.ort.Tensor("bool", mask, [1, IMAGES, T, T]),
    });
    return Float32Array.from(out.image_features.data as Float32Array);
  } finally {
    await session.release();
  }
}

function expected(weights: Map<string, { dims: number[]; data: Float32Array }>, padded: boolean) {
  const { pixels, valid } = inputs(padded);
  const features = refVisionFeatures(SPEC.encoder, weights, pixels, IMAGES, valid);
  return refProjector(
    SPEC.projector,
    weights,
    features,
    IMAGES,
    SIDE,
    PLAN.encoder.featureDim,
    SPEC.decoder.hidden,
  );
}

/** A copy of `model` with `change` applied to every MultiHeadAttention node. */
function mutated(model: Model, change: (node: Node) => void): Model {
  const copy = onnxProto.onnx.ModelProto.decode(onnxProto.onnx.ModelProto.encode(model).finish());
  const nodes = allNodes(copy.graph!.node).filter((n) => n.opType === "MultiHeadAttention");
  assert.ok(nodes.length > 0);
  nodes.forEach(change);
  return copy;
}

Deno.test("vision attention: the fused graph is one QKV matmul and MultiHeadAttention, no Softmax", () => {
  const { model } = build("fused");
  const ops = allNodes(model.graph!.node).map((n) => n.opType);
  const layers = SPEC.encoder.layers;
  assert.equal(ops.filter((op) => op === "Softmax").length, 0);
  // Each layer: an If whose two branches each hold one MultiHeadAttention.
  assert.equal(ops.filter((op) => op === "If").length, layers);
  assert.equal(ops.filter((op) => op === "MultiHeadAttention").length, 2 * layers);
  // Per layer: QKV, out, up and down matmuls, plus the connector's one.
  assert.equal(ops.filter((op) => op === "MatMul").length, 4 * layers + 1);
  const unfused = build("unfused").model.graph!.node!.map((n) => n.opType);
  assert.equal(unfused.filter((op) => op === "Softmax").length, layers);
  assert.equal(unfused.filter((op) => op === "MultiHeadAttention").length, 0);
});

for (const backend of ["native", "wasm"] as const) {
  Deno.test(`vision attention (${backend}): fused and unfused match the reference, padded and whole`, async () => {
    for (const attention of ["fused", "unfused"] as const) {
      const { model, weights } = build(attention);
      for (const padded of [true, false]) {
        const what = `${attention}, ${padded ? "a half-padded image" : "whole images"}`;
        assertClose(await run(backend, model, padded), expected(weights, padded), what);
      }
    }
  });

  Deno.test(`vision attention (${backend}): a wrong scale or a dropped mask fails the reference check`, async () => {
    const { model, weights } = build("fused");
    const padded = expected(weights, true);
    const whole = expected(weights, false);
    // 1/√D instead of 1/√(D/heads): the classic wrong scale.
    const wrongScale = mutated(model, (node) => {
      const scale = node.attribute!.find((a) => a.name === "scale")!;
      scale.f = 1 / Math.sqrt(SPEC.encoder.hidden);
    });
    assert.equal(isClose(await run(backend, wrongScale, false), whole), false, "wrong scale");
    assert.equal(isClose(await run(backend, wrongScale, true), padded), false, "wrong scale");
    const noMask = mutated(model, (node) => {
      node.input = node.input!.slice(0, 4);
    });
    assert.equal(isClose(await run(backend, noMask, true), padded), false, "dropped mask");
    // The unmutated graph passes the same checks.
    assert.ok(isClose(await run(backend, model, true), padded));
  });
}
