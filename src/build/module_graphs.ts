/**
 * One ONNX graph per module of a {@linkcode Plan}, with the I/O names of the
 * runtime contract. The hf-idefics3 layout fuses encoder and connector into
 * `vision_encoder`; the modular layout keeps `encoder` and `projector` apart.
 *
 * @module
 */
import type { Plan } from "../spec/plan.ts";
import { embedTokens } from "./layers/embedding.ts";
import { ldpProjector } from "./layers/ldp.ts";
import { ldpV2Projector } from "./layers/ldp_v2.ts";
import { cacheNames, embeddingTable, llamaDecoder } from "./layers/llama.ts";
import { mlpProjector } from "./layers/mlp_projector.ts";
import type { LayerContext, WeightFormat } from "./layers/ops.ts";
import { reshape } from "./layers/ops.ts";
import { pixelShuffleProjector } from "./layers/pixel_shuffle.ts";
import { visionTower } from "./layers/vision_tower.ts";
import type { VisionAttention } from "./layers/vit_attention.ts";
import { GraphBuilder } from "./onnx_graph.ts";
import { SHARED_KV_AXIS } from "../modules/kv_buffer_axis.ts";
import type { WeightMap } from "./seeded_weights.ts";
import { seededSources, type WeightSources } from "./weight_source.ts";

/** A built module graph. */
export interface ModuleGraph {
  /** The graph (turn into a model with `graph.toModel()`). */
  graph: GraphBuilder;
  /** The float weights it was built from, by name (for numerical checks). */
  weights: WeightMap;
}

/** Seeds and formats shared by the modules of one build. */
export interface BuildSettings {
  /** Weight seed. */
  seed: number;
  /** Storage of matmul weights. */
  format: WeightFormat;
  /**
   * Which positions the decoder computes logits for: `last` (default) only
   * the final one, which is all generation samples from (a prefill of 900
   * tokens otherwise spends a 49k-wide head matmul and a 177 MB output on
   * rows nobody reads); `all` every position, as the published exports do.
   */
  logits?: "last" | "all";
  /** Where weights come from (default: seeded from `seed`). */
  sources?: WeightSources;
  /**
   * Rows per MatMulNBits block in `q4` / `q4f16` (default 32, the published
   * exports' size). 128 costs ONNX Runtime 1.30's native 4-bit kernel about
   * 15% less at prefill but moves the seeded SmolVLM-256M decoder's logits
   * about 27% further from fp32 (tools/bench/matmul_kernels.ts --shapes,
   * tools/bench/q4_block_accuracy.ts), so it is not the default.
   */
  q4Block?: number;
  /**
   * The vision tower's attention: `fused` (default) one QKV matmul and
   * MultiHeadAttention; `unfused` the published exports' chain of plain operators.
   */
  visionAttention?: VisionAttention;
}

function sourceOf(module: string, settings: BuildSettings) {
  return (settings.sources ?? seededSources(settings.seed))(module);
}

function context(name: string, module: string, settings: BuildSettings): LayerContext {
  return {
    g: new GraphBuilder(name),
    w: sourceOf(module, settings),
    format: settings.format,
    q4Block: settings.q4Block,
  };
}

/** Applies the plan's projector to features [N, P, D] → [N, tokens, H]. */
function project(ctx: LayerContext, features: string, plan: Plan): string {
  const { spec } = plan;
  const side = plan.encoder.patchGridSide;
  const inDim = plan.encoder.featureDim;
  const hidden = spec.decoder.hidden;
  const p = spec.projector;
  switch (p.kind) {
    case "pixel-shuffle-linear":
      return pixelShuffleProjector(ctx, features, side, inDim, p.scaleFactor, hidden);
    case "ldp":
      return ldpProjector(ctx, features, side, inDim, hidden);
    case "ldpv2":
      return ldpV2Projector(ctx, features, side, inDim, hidden);
    case "mlp":
      return mlpProjector(ctx, features, p, inDim, hidden);
  }
}

/**
 * Patch validity, bool [N, P], from a pixel mask [N, T, T]: a patch is valid
 * when any of its pixels is (as Idefics3 derives its patch attention mask).
 */
function validPatches(ctx: LayerContext, mask: string, plan: Plan): string {
  const { g } = ctx;
  const p = plan.spec.encoder.patchSize;
  const side = plan.encoder.patchGridSide;
  const covered = g.op("Slice", [
    mask,
    g.ints([0, 0]),
    g.ints([side * p, side * p]),
    g.ints([1, 2]),
  ]);
  const blocks = reshape(g, g.op("Cast", [covered], { to: 1 }), [-1, side, p, side, p]);
  const patches = g.op("ReduceMax", [blocks], { axes: [2, 4], keepdims: 0 }); // [N,g,g]
  return g.op("Cast", [reshape(g, patches, [-1, side * side])], { to: 9 });
}

/**
 * hf-idefics3 `vision_encoder`: pixel_values [B, N, 3, T, T] and
 * pixel_attention_mask [B, N, T, T] → image_features [B·N·tokens, H].
 */
export function hfVisionEncoderGraph(plan: Plan, settings: BuildSettings): ModuleGraph {
  const ctx = context("vision_encoder", "encoder", settings);
  const { g } = ctx;
  const t = plan.spec.image.tileSize;
  const pixels = g.input("pixel_values", "float32", ["batch_size", "num_images", 3, t, t]);
  const mask = g.input("pixel_attention_mask", "bool", ["batch_size", "num_images", t, t]);
  const tiles = reshape(g, pixels, [-1, 3, t, t]);
  const features = visionTower(ctx, tiles, plan.spec.encoder, plan.encoder.patchesPerTile, {
    validPatches: validPatches(ctx, reshape(g, mask, [-1, t, t]), plan),
    attention: settings.visionAttention,
  });
  // The connector's weights share the encoder's stream namespace under their own names.
  const projected = project(ctx, features, plan);
  const hidden = plan.spec.decoder.hidden;
  g.output(reshape(g, projected, [-1, hidden]), "image_features", "float32", [
    "num_image_tokens",
    hidden,
  ]);
  return { graph: g, weights: ctx.w.weights };
}

/** Modular `encoder`: pixel_values [N, 3, T, T] → features [N, P, D]. */
export function encoderGraph(plan: Plan, settings: BuildSettings): ModuleGraph {
  const ctx = context("encoder", "encoder", settings);
  const { g } = ctx;
  const t = plan.spec.image.tileSize;
  const pixels = g.input("pixel_values", "float32", ["num_tiles", 3, t, t]);
  const features = visionTower(ctx, pixels, plan.spec.encoder, plan.encoder.patchesPerTile, {
    attention: settings.visionAttention,
  });
  g.output(features, "features", "float32", [
    "num_tiles",
    plan.encoder.patchesPerTile,
    plan.encoder.featureDim,
  ]);
  return { graph: g, weights: ctx.w.weights };
}

/** Modular `projector`: features [N, P, D] → image_features [N·tokens, H]. */
export function projectorGraph(plan: Plan, settings: BuildSettings): ModuleGraph {
  const ctx = context("projector", "projector", settings);
  const { g } = ctx;
  const features = g.input("features", "float32", [
    "num_tiles",
    plan.encoder.patchesPerTile,
    plan.encoder.featureDim,
  ]);
  const hidden = plan.spec.decoder.hidden;
  g.output(reshape(g, project(ctx, features, plan), [-1, hidden]), "image_features", "float32", [
    "num_image_tokens",
    hidden,
  ]);
  return { graph: g, weights: ctx.w.weights };
}

/**
 * `embed_tokens` and the decoder (`decoder_model_merged` in hf-idefics3,
 * `decoder` in modular). They share one weight stream, so a tied head reads
 * the same table the embedding module holds.
 */
export function languageGraphs(
  plan: Plan,
  settings: BuildSettings,
  decoderName: string,
): { embed: ModuleGraph; decoder: ModuleGraph } {
  const spec = plan.spec.decoder;
  const w = sourceOf("decoder", settings);
  const embedCtx: LayerContext = {
    g: new GraphBuilder("embed_tokens"),
    w,
    format: settings.format,
  };
  const table = embeddingTable(embedCtx, spec);
  const ids = embedCtx.g.input("input_ids", "int64", ["batch_size", "sequence_length"]);
  embedCtx.g.output(embedTokens(embedCtx, ids, table), "inputs_embeds", "float32", [
    "batch_size",
    "sequence_length",
    spec.hidden,
  ]);

  const ctx: LayerContext = {
    g: new GraphBuilder(decoderName),
    w,
    format: settings.format,
    q4Block: settings.q4Block,
  };
  const { g } = ctx;
  const embeds = g.input("inputs_embeds", "float32", [
    "batch_size",
    "sequence_length",
    spec.hidden,
  ]);
  const mask = g.input("attention_mask", "int64", ["batch_size", "total_sequence_length"]);
  const positions = g.input("position_ids", "int64", ["batch_size", "sequence_length"]);
  const cacheDims = ["batch_size", spec.kvHeads, "past_sequence_length", spec.headDim];
  for (let i = 0; i < spec.layers; i++) {
    const names = cacheNames(i);
    g.input(names.pastKey, "float32", cacheDims);
    g.input(names.pastValue, "float32", cacheDims);
  }
  const lastOnly = (settings.logits ?? "last") === "last";
  const logits = llamaDecoder(
    ctx,
    embeds,
    mask,
    positions,
    spec,
    spec.tiedEmbeddings ? table : undefined,
    lastOnly,
  );
  g.output(logits, "logits", "float32", [
    "batch_size",
    lastOnly ? 1 : "sequence_length",
    spec.vocab,
  ]);
  // GQA's present is max(total, past) long: past + new rows when fed a past of exactly the
  // cached tokens, the buffer itself when past is a larger buffer bound as present too.
  const presentDims = ["batch_size", spec.kvHeads, SHARED_KV_AXIS, spec.headDim];
  for (let i = 0; i < spec.layers; i++) {
    const names = cacheNames(i);
    g.output(names.presentKey, names.presentKey, "float32", presentDims);
    g.output(names.presentValue, names.presentValue, "float32", presentDims);
  }
  return {
    embed: { graph: embedCtx.g, weights: w.weights },
    decoder: { graph: g, weights: w.weights },
  };
}
