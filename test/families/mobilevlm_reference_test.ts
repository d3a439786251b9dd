// The builder's MobileVLM graphs (CLIP tower, LDP / LDPv2, Llama decoder) run on the weights of
// the seeded checkpoints in test/fixtures/mobilevlm/ and compared with the PyTorch reference
// written from the MobileVLM repository (tools/reference/mobilevlm_torch.py): features, projected
// image rows and prefill logits. This checks the graphs' structure against the real modules; the
// end-to-end `vlm convert` check is the converter's own test.
import assert from "node:assert/strict";
import { visionTower } from "../../src/build/layers/vision_tower.ts";
import { ldpProjector } from "../../src/build/layers/ldp.ts";
import { ldpV2Projector } from "../../src/build/layers/ldp_v2.ts";
import { cacheNames, llamaDecoder } from "../../src/build/layers/llama.ts";
import type { LayerContext } from "../../src/build/layers/ops.ts";
import { GraphBuilder } from "../../src/build/onnx_graph.ts";
import { WeightFactory, type WeightTensor } from "../../src/build/seeded_weights.ts";
import { scaledSpec } from "../../src/build/test_scale.ts";
import { parseSpec } from "../../src/spec/validate.ts";
import type { VariantSpec } from "../../src/spec/types.ts";
import { getPreset } from "../../variants/mod.ts";
import { floatTensor, intTensor, runGraph } from "../build/_harness.ts";
import { readSafetensors, type SafetensorsFile, tensorValues } from "./_safetensors.ts";

const FIXTURES = new URL("../fixtures/mobilevlm/", import.meta.url);
const path = (relative: string) => new URL(relative, FIXTURES).pathname;
const manifest = JSON.parse(Deno.readTextFileSync(path("manifest.json")));

/** How a checkpoint tensor becomes the builder's: as is, or `[out, in(, 1, 1)]` → `[in, out]`. */
type Layout = "same" | "transpose";

/** Builder weight name → checkpoint name and layout. */
type NameMap = Map<string, [string, Layout]>;

function visionNames(layers: number): NameMap {
  const v = "vision_model";
  const map: NameMap = new Map([
    ["patch.weight", [`${v}.embeddings.patch_embedding.weight`, "same"]],
    ["class", [`${v}.embeddings.class_embedding`, "same"]],
    ["position", [`${v}.embeddings.position_embedding.weight`, "same"]],
    ["pre_norm.weight", [`${v}.pre_layrnorm.weight`, "same"]],
    ["pre_norm.bias", [`${v}.pre_layrnorm.bias`, "same"]],
  ]);
  for (let i = 0; i < layers; i++) {
    const from = `${v}.encoder.layers.${i}`;
    const pairs: [string, string][] = [
      ["attn.q", "self_attn.q_proj"],
      ["attn.k", "self_attn.k_proj"],
      ["attn.v", "self_attn.v_proj"],
      ["attn.out", "self_attn.out_proj"],
      ["mlp.up", "mlp.fc1"],
      ["mlp.down", "mlp.fc2"],
    ];
    for (const [to, src] of pairs) {
      map.set(`layers.${i}.${to}.weight`, [`${from}.${src}.weight`, "transpose"]);
      map.set(`layers.${i}.${to}.bias`, [`${from}.${src}.bias`, "same"]);
    }
    for (const [to, src] of [["norm1", "layer_norm1"], ["norm2", "layer_norm2"]]) {
      map.set(`layers.${i}.${to}.weight`, [`${from}.${src}.weight`, "same"]);
      map.set(`layers.${i}.${to}.bias`, [`${from}.${src}.bias`, "same"]);
    }
  }
  return map;
}

function linearPair(map: NameMap, to: string, from: string): void {
  map.set(`${to}.weight`, [`${from}.weight`, "transpose"]);
  map.set(`${to}.bias`, [`${from}.bias`, "same"]);
}

function affine(map: NameMap, to: string, from: string): void {
  map.set(`${to}.weight`, [`${from}.weight`, "same"]);
  map.set(`${to}.bias`, [`${from}.bias`, "same"]);
}

function projectorNames(kind: "ldp" | "ldpv2"): NameMap {
  const map: NameMap = new Map();
  if (kind === "ldpv2") {
    const p = "model.mm_projector";
    linearPair(map, "mlp.0", `${p}.mlp.mlp.0`);
    linearPair(map, "mlp.1", `${p}.mlp.mlp.2`);
    affine(map, "peg", `${p}.peg.peg.0`);
    return map;
  }
  const p = "model.mm_projector.model";
  linearPair(map, "mlp.0", `${p}.mlp.1`);
  linearPair(map, "mlp.1", `${p}.mlp.3`);
  for (const b of [0, 1]) {
    const from = `${p}.mb_block.${b + 1}.block`;
    map.set(`blocks.${b}.dw.weight`, [`${from}.0.0.weight`, "same"]);
    affine(map, `blocks.${b}.norm1`, `${from}.0.1`);
    linearPair(map, `blocks.${b}.se.fc1`, `${from}.1.fc1`);
    linearPair(map, `blocks.${b}.se.fc2`, `${from}.1.fc2`);
    map.set(`blocks.${b}.pw.weight`, [`${from}.2.0.weight`, "transpose"]);
    affine(map, `blocks.${b}.norm2`, `${from}.2.1`);
  }
  return map;
}

function decoderNames(layers: number): NameMap {
  const map: NameMap = new Map([
    ["norm.weight", ["model.norm.weight", "same"]],
    ["lm_head.weight", ["lm_head.weight", "transpose"]],
  ]);
  for (let i = 0; i < layers; i++) {
    const from = `model.layers.${i}`;
    map.set(`layers.${i}.input_norm.weight`, [`${from}.input_layernorm.weight`, "same"]);
    map.set(`layers.${i}.post_attn_norm.weight`, [
      `${from}.post_attention_layernorm.weight`,
      "same",
    ]);
    for (const p of ["q", "k", "v", "o"]) {
      map.set(`layers.${i}.attn.${p}.weight`, [`${from}.self_attn.${p}_proj.weight`, "transpose"]);
    }
    for (const p of ["gate", "up", "down"]) {
      map.set(`layers.${i}.mlp.${p}.weight`, [`${from}.mlp.${p}_proj.weight`, "transpose"]);
    }
  }
  return map;
}

/** A checkpoint tensor in the builder's layout. */
function builderTensor(file: SafetensorsFile, name: string, layout: Layout): WeightTensor {
  const shape = file.entries.get(name)!.shape;
  const values = tensorValues(file, name) as Float32Array;
  if (layout === "same") return { dims: shape, data: Float32Array.from(values) };
  const [out, inDim] = shape;
  const data = new Float32Array(out * inDim);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inDim; i++) data[i * out + o] = values[o * inDim + i];
  }
  return { dims: [inDim, out], data };
}

/** Hands the builder checkpoint tensors instead of seeded ones, checking every shape. */
class CheckpointWeights extends WeightFactory {
  constructor(readonly file: SafetensorsFile, readonly names: NameMap) {
    super(0, "checkpoint");
  }

  override normal(name: string, dims: number[]): WeightTensor {
    const source = this.names.get(name);
    if (!source) throw new Error(`builder weight ${name} has no checkpoint tensor`);
    const tensor = builderTensor(this.file, ...source);
    assert.deepEqual(tensor.dims, dims, `${name} ← ${source[0]}`);
    this.weights.set(name, tensor);
    return tensor;
  }
}

function context(name: string, w: WeightFactory): LayerContext {
  return { g: new GraphBuilder(name), w, format: "fp32" };
}

/** Largest |a − b| over the largest |b|. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

const TOLERANCE = 1e-3;

for (const [name, entry] of Object.entries(manifest.models) as [string, Record<string, never>][]) {
  Deno.test(`mobilevlm reference: the builder's graphs on ${name}'s weights give its logits`, async () => {
    const base = scaledSpec(getPreset(entry.variant), "test");
    const spec: VariantSpec = parseSpec({
      ...base,
      decoder: { ...base.decoder, vocab: entry.vocab },
    });
    const clip = readSafetensors(path(`${manifest.encoder}/model.safetensors`));
    const model = readSafetensors(path(`${name}/model.safetensors`));
    const inputs = readSafetensors(path(manifest.inputs));
    const ref = readSafetensors(path(entry.reference));
    const t = spec.image.tileSize;
    const side = t / spec.encoder.patchSize;

    // Encoder: CLIP up to the penultimate layer, CLS dropped.
    const enc = context("encoder", new CheckpointWeights(clip, visionNames(spec.encoder.layers)));
    const pixels = enc.g.input("pixel_values", "float32", [1, 3, t, t]);
    const features = visionTower(enc, pixels, spec.encoder, side * side);
    enc.g.output(features, "features", "float32", [1, side * side, spec.encoder.hidden]);
    const encoded = await runGraph(enc.g, {
      pixel_values: await floatTensor(tensorValues(inputs, "pixel_values") as Float32Array, [
        1,
        3,
        t,
        t,
      ]),
    });
    const featureValues = encoded.features.data as Float32Array;
    const featureError = relativeError(
      featureValues,
      tensorValues(ref, "image_features") as Float32Array,
    );
    assert.ok(featureError < TOLERANCE, `features: ${featureError}`);

    // Projector: LDP or LDPv2.
    const kind = spec.projector.kind as "ldp" | "ldpv2";
    const proj = context("projector", new CheckpointWeights(model, projectorNames(kind)));
    const x = proj.g.input("features", "float32", [1, side * side, spec.encoder.hidden]);
    const d = spec.encoder.hidden;
    const h = spec.decoder.hidden;
    const projected = kind === "ldp"
      ? ldpProjector(proj, x, side, d, h)
      : ldpV2Projector(proj, x, side, d, h);
    proj.g.output(projected, "image_embeds", "float32", [1, 144, h]);
    const embedsOut = await runGraph(proj.g, {
      features: await floatTensor(featureValues, [1, side * side, d]),
    });
    const imageRows = embedsOut.image_embeds.data as Float32Array;
    const projectorError = relativeError(
      imageRows,
      tensorValues(ref, "image_embeds") as Float32Array,
    );
    assert.ok(projectorError < TOLERANCE, `projector: ${projectorError}`);

    // Decoder: the sentinel replaced by the 144 rows, one prefill over the whole prompt.
    const ids = tensorValues(inputs, "input_ids") as number[];
    const table = tensorValues(model, "model.embed_tokens.weight") as Float32Array;
    const rows: number[] = [];
    for (const id of ids) {
      if (id === spec.tokens.image.id) rows.push(...imageRows);
      else rows.push(...table.subarray(id * h, (id + 1) * h));
    }
    const length = rows.length / h;
    const dec = context(
      "decoder",
      new CheckpointWeights(model, decoderNames(spec.decoder.layers)),
    );
    const { g } = dec;
    const embeds = g.input("inputs_embeds", "float32", [1, "sequence_length", h]);
    const mask = g.input("attention_mask", "int64", [1, "total_sequence_length"]);
    const positions = g.input("position_ids", "int64", [1, "sequence_length"]);
    const cache = [1, spec.decoder.kvHeads, "past_sequence_length", spec.decoder.headDim];
    const feeds: Record<string, Awaited<ReturnType<typeof floatTensor>>> = {
      inputs_embeds: await floatTensor(Float32Array.from(rows), [1, length, h]),
      attention_mask: await intTensor(Array(length).fill(1), [1, length]),
      position_ids: await intTensor(Array.from({ length }, (_, i) => i), [1, length]),
    };
    for (let i = 0; i < spec.decoder.layers; i++) {
      const n = cacheNames(i);
      g.input(n.pastKey, "float32", cache);
      g.input(n.pastValue, "float32", cache);
      const empty = [1, spec.decoder.kvHeads, 0, spec.decoder.headDim];
      feeds[n.pastKey] = await floatTensor(new Float32Array(0), empty);
      feeds[n.pastValue] = await floatTensor(new Float32Array(0), empty);
    }
    g.output(llamaDecoder(dec, embeds, mask, positions, spec.decoder), "logits", "float32", [
      1,
      "sequence_length",
      spec.decoder.vocab,
    ]);
    for (let i = 0; i < spec.decoder.layers; i++) {
      const n = cacheNames(i);
      g.output(n.presentKey, n.presentKey, "float32", cache);
      g.output(n.presentValue, n.presentValue, "float32", cache);
    }
    const out = await runGraph(g, feeds);
    const logits = out.logits.data as Float32Array;
    const logitError = relativeError(logits, tensorValues(ref, "logits") as Float32Array);
    console.log(
      `${name}: relative error features ${featureError.toExponential(2)}, ` +
        `projector ${projectorError.toExponential(2)}, logits ${logitError.toExponential(2)}`,
    );
    assert.ok(logitError < TOLERANCE, `logits: ${logitError}`);
    const last = logits.subarray(logits.length - spec.decoder.vocab);
    assert.equal(last.indexOf(Math.max(...last)), entry.greedy_last);
  });
}
