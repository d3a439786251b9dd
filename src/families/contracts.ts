/**
 * Session contracts every layout shares: the token embedder and the decoder
 * with the Hugging Face KV-cache I/O. Layouts add their vision modules.
 *
 * @module
 */
import type { Plan } from "../spec/plan.ts";
import type { ExpectedTensor, ModuleContract } from "./types.ts";

/** Element types a float tensor may have (fp16 exports use float16 at the boundaries). */
export const FLOATS: readonly string[] = ["float32", "float16"];

/** `input_ids` → `inputs_embeds` [B, S, H]. */
export function embedContract(plan: Plan): ModuleContract {
  return {
    inputs: [{ name: "input_ids", types: ["int64"], dims: [null, null] }],
    outputs: [{
      name: "inputs_embeds",
      types: [...FLOATS],
      dims: [null, null, plan.spec.decoder.hidden],
    }],
  };
}

/**
 * The projected features the vision side hands to the merge: [N·tokensPerTile, H],
 * or [N, tokensPerTile, H] as the published SmolVLM `vision_encoder` files report it
 * (transformers.js relies only on the last dim). The runtime flattens either and
 * checks the row count when it runs.
 */
export function imageFeatures(plan: Plan): ExpectedTensor {
  const hidden = plan.spec.decoder.hidden;
  return {
    name: "image_features",
    types: [...FLOATS],
    dims: [null, hidden],
    alternatives: [[null, null, hidden]],
  };
}

/** Decoder with `past_key_values.{i}.key|value` in and `present.{i}.key|value` out. */
export function decoderContract(plan: Plan, cacheType: string): ModuleContract {
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
      { name: "inputs_embeds", types: [...FLOATS], dims: [null, null, hidden] },
      { name: "attention_mask", types: ["int64"], dims: [null, null] },
      { name: "position_ids", types: ["int64"], dims: [null, null] },
      ...cache,
    ],
    outputs: [{ name: "logits", types: [...FLOATS], dims: [null, null, vocab] }, ...present],
  };
}
