/**
 * Parameter counts from the architecture formulas. They reproduce the
 * published totals (SmolVLM-256M 256,484,928; MobileVLM-1.7B 1,686,742,016; ...)
 * and split each module into matmul weights, embeddings and the rest, which is
 * what weight-byte estimates per dtype need.
 *
 * @module
 */
import type { ModuleParams, ParamCounts } from "../spec/plan.ts";
import type { DecoderSpec, EncoderSpec, ProjectorSpec, VariantSpec } from "../spec/types.ts";
import { patchesPerTile } from "./tile_tokens.ts";

function moduleParams(parts: Omit<ModuleParams, "total">): ModuleParams {
  return { ...parts, total: parts.matmul + parts.embedding + parts.other };
}

/** Parameters of one pre-LN ViT block: attention (4 D×D + biases), 2 LayerNorms, MLP (2 D×I + biases). */
function vitBlock(hidden: number, mlp: number): { matmul: number; other: number } {
  return {
    matmul: 4 * hidden * hidden + 2 * hidden * mlp,
    other: 4 * hidden + 4 * hidden + mlp + hidden,
  };
}

/**
 * Vision tower parameters. SigLIP: conv patch embed with bias, learned
 * positions, blocks, post-LN. CLIP: conv without bias, class token, one more
 * position, pre-LN, blocks, post-LN. No pooling head (the VLMs do not use it).
 * With `featureLayer: "penultimate"` the last block and the post-LN are stored
 * but unused.
 */
export function encoderParams(encoder: EncoderSpec): ModuleParams {
  const d = encoder.hidden;
  const patches = patchesPerTile(encoder);
  const conv = 3 * encoder.patchSize * encoder.patchSize * d;
  const block = vitBlock(d, encoder.mlp);
  const postNorm = 2 * d;
  let other = encoder.layers * block.other + postNorm;
  if (encoder.family === "siglip") {
    other += conv + d + patches * d;
  } else {
    other += conv + d + (patches + 1) * d + 2 * d; // class token, positions, pre-LN
  }
  const lastBlock = block.matmul + block.other;
  const unused = encoder.featureLayer === "penultimate"
    ? lastBlock + postNorm
    : encoder.postLayerNorm
    ? 0
    : postNorm;
  return moduleParams({ matmul: encoder.layers * block.matmul, embedding: 0, other, unused });
}

/** torchvision's `_make_divisible(v, 8)`, used for the squeeze-excite width. */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/**
 * Projector parameters, for encoder width D and decoder width H.
 * Pointwise (1×1) convolutions count as matmul weights: they are matrix
 * products and are emitted as such.
 */
export function projectorParams(
  projector: ProjectorSpec,
  encoderHidden: number,
  decoderHidden: number,
): ModuleParams {
  const d = decoderHidden;
  const mlpTwoLayer = { matmul: encoderHidden * d + d * d, other: 2 * d };
  switch (projector.kind) {
    case "pixel-shuffle-linear": {
      const r = projector.scaleFactor;
      return moduleParams({ matmul: encoderHidden * r * r * d, embedding: 0, other: 0, unused: 0 });
    }
    case "ldp": {
      const squeeze = makeDivisible(d / 4);
      // depthwise 3×3 (no bias), LN, squeeze-excite (two 1×1 convs with bias), pointwise (no bias), LN
      const block = { matmul: 2 * d * squeeze + d * d, other: 9 * d + 2 * d + squeeze + d + 2 * d };
      return moduleParams({
        matmul: mlpTwoLayer.matmul + 2 * block.matmul,
        embedding: 0,
        other: mlpTwoLayer.other + 2 * block.other,
        unused: 0,
      });
    }
    case "ldpv2":
      // MLP, 2×2 average pool (no parameters), depthwise 3×3 PEG with bias
      return moduleParams({
        matmul: mlpTwoLayer.matmul,
        embedding: 0,
        other: mlpTwoLayer.other + 9 * d + d,
        unused: 0,
      });
    case "mlp":
      return moduleParams({
        matmul: encoderHidden * d + (projector.layers - 1) * d * d,
        embedding: 0,
        other: projector.layers * d,
        unused: 0,
      });
  }
}

/** Llama decoder parameters: embeddings, attention, SwiGLU MLP, RMSNorms, LM head (unless tied). */
export function decoderParams(decoder: DecoderSpec): ModuleParams {
  const h = decoder.hidden;
  const qo = 2 * h * decoder.heads * decoder.headDim;
  const kv = 2 * h * decoder.kvHeads * decoder.headDim;
  const perLayer = qo + kv + 3 * h * decoder.intermediate;
  const head = decoder.tiedEmbeddings ? 0 : decoder.vocab * h;
  return moduleParams({
    matmul: decoder.layers * perLayer + head,
    embedding: decoder.vocab * h,
    other: decoder.layers * 2 * h + h,
    unused: 0,
  });
}

/** Parameter counts of every module of a variant, and their total. */
export function countParams(spec: VariantSpec): ParamCounts {
  const encoder = encoderParams(spec.encoder);
  const projector = projectorParams(spec.projector, spec.encoder.hidden, spec.decoder.hidden);
  const decoder = decoderParams(spec.decoder);
  return { encoder, projector, decoder, total: encoder.total + projector.total + decoder.total };
}
