/**
 * The I/O every module session must have, derived from the Plan, for both
 * layouts: hf-idefics3 (`vision_encoder`, `embed_tokens`,
 * `decoder_model_merged`) and modular (`encoder`, `projector`,
 * `embed_tokens`, `decoder`).
 *
 * @module
 */
import type { Plan } from "../spec/plan.ts";
import type { ExpectedTensor } from "./session_contract.ts";

/** Expected inputs and outputs of one session. */
export interface ModuleContract {
  /** Inputs. */
  inputs: ExpectedTensor[];
  /** Outputs. */
  outputs: ExpectedTensor[];
}

const FLOATS = ["float32", "float16"];

function decoderContract(plan: Plan, cacheType: string): ModuleContract {
  const { layers, kvHeads, headDim, vocab, hidden } = plan.spec.decoder;
  const cache: ExpectedTensor[] = [];
  const present: ExpectedTensor[] = [];
  for (let i = 0; i < layers; i++) {
    for (const part of ["key", "value"]) {
      const dims = [null, kvHeads, null, headDim];
      cache.push({ name: `past_key_values.${i}.${part}`, types: [cacheType], dims });
      present.push({ name: `present.${i}.${part}`, types: [cacheType], dims });
    }
  }
  return {
    inputs: [
      { name: "inputs_embeds", types: ["float32"], dims: [null, null, hidden] },
      { name: "attention_mask", types: ["int64"], dims: [null, null] },
      { name: "position_ids", types: ["int64"], dims: [null, null] },
      ...cache,
    ],
    outputs: [{ name: "logits", types: FLOATS, dims: [null, null, vocab] }, ...present],
  };
}

/** Contracts of every module of the plan's layout, by module name. */
export function moduleContracts(plan: Plan, cacheType: string): Record<string, ModuleContract> {
  const T = plan.spec.image.tileSize;
  const H = plan.spec.decoder.hidden;
  const embed: ModuleContract = {
    inputs: [{ name: "input_ids", types: ["int64"], dims: [null, null] }],
    outputs: [{ name: "inputs_embeds", types: FLOATS, dims: [null, null, H] }],
  };
  const imageFeatures = { name: "image_features", types: FLOATS, dims: [null, H] };
  if (plan.spec.artifacts.layout === "hf-idefics3") {
    return {
      vision_encoder: {
        inputs: [
          { name: "pixel_values", types: FLOATS, dims: [null, null, 3, T, T] },
          { name: "pixel_attention_mask", types: ["bool"], dims: [null, null, T, T] },
        ],
        outputs: [imageFeatures],
      },
      embed_tokens: embed,
      decoder_model_merged: decoderContract(plan, cacheType),
    };
  }
  const features = {
    name: "features",
    types: FLOATS,
    dims: [null, plan.encoder.patchesPerTile, plan.encoder.featureDim],
  };
  return {
    encoder: {
      inputs: [{ name: "pixel_values", types: FLOATS, dims: [null, 3, T, T] }],
      outputs: [features],
    },
    projector: { inputs: [features], outputs: [imageFeatures] },
    embed_tokens: embed,
    decoder: decoderContract(plan, cacheType),
  };
}
