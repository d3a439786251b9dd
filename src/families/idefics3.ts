/**
 * The Idefics3 family: SmolVLM, SmolVLM2, SmolDocling, granite-docling and
 * Idefics3. SigLIP encoder, pixel-shuffle connector, Llama decoder; published
 * on the Hub in the `hf-idefics3` ONNX layout (encoder and connector fused in
 * `vision_encoder`).
 *
 * @module
 */
import type { Plan } from "../spec/plan.ts";
import { decoderContract, embedContract, FLOATS, imageFeatures } from "./contracts.ts";
import { idefics3HfConfig } from "./idefics3_hf_config.ts";
import { idefics3Prompt } from "./idefics3_prompt.ts";
import { llamaLayerNames, vitLayerNames } from "./transformers_layers.ts";
import type { CheckpointNames, ModelFamily, ModuleContract, ModuleLayout } from "./types.ts";

function contracts(plan: Plan, cacheType: string): Record<string, ModuleContract> {
  const T = plan.spec.image.tileSize;
  return {
    vision_encoder: {
      inputs: [
        { name: "pixel_values", types: [...FLOATS], dims: [null, null, 3, T, T] },
        { name: "pixel_attention_mask", types: ["bool"], dims: [null, null, T, T] },
      ],
      outputs: [imageFeatures(plan)],
    },
    embed_tokens: embedContract(plan),
    decoder_model_merged: decoderContract(plan, cacheType),
  };
}

/** What Hugging Face publishes: `vision_encoder` (encoder + connector), `embed_tokens`, `decoder_model_merged`. */
export const hfIdefics3Layout: ModuleLayout = {
  name: "hf-idefics3",
  cliName: "hf",
  modules: ["vision_encoder", "embed_tokens", "decoder_model_merged"],
  files: {
    vision_encoder: "onnx/vision_encoder",
    embed_tokens: "onnx/embed_tokens",
    decoder_model_merged: "onnx/decoder_model_merged",
  },
  roles: {
    vision: "vision_encoder",
    projector: null,
    embed: "embed_tokens",
    decoder: "decoder_model_merged",
  },
  requiredFiles: ["config.json", "preprocessor_config.json", "tokenizer.json"],
  projectorKinds: ["pixel-shuffle-linear"],
  contracts,
};

const VISION = "model.vision_model";
const TEXT = "model.text_model";

const visionBuilderNames: Record<string, string> = {
  "patch.weight": `${VISION}.embeddings.patch_embedding.weight`,
  "patch.bias": `${VISION}.embeddings.patch_embedding.bias`,
  "position": `${VISION}.embeddings.position_embedding.weight`,
  "post_norm.weight": `${VISION}.post_layernorm.weight`,
  "post_norm.bias": `${VISION}.post_layernorm.bias`,
  ...vitLayerNames(VISION),
};

const textBuilderNames: Record<string, string> = {
  "embed.weight": `${TEXT}.embed_tokens.weight`,
  "norm.weight": `${TEXT}.norm.weight`,
  ...llamaLayerNames(TEXT),
};

/**
 * transformers' `Idefics3ForConditionalGeneration` parameter names (DESIGN.md §3, variants.md),
 * as in transformers' `src/transformers/models/idefics3/modeling_idefics3.py`:
 * `Idefics3Model` holds `vision_model` (Idefics3VisionTransformer: `embeddings.patch_embedding`
 * Conv2d, `embeddings.position_embedding`, `encoder.layers[i]` with `layer_norm1/2`,
 * `self_attn.{q,k,v,out}_proj`, `mlp.fc1/fc2`, then `post_layernorm`), `connector`
 * (`modality_projection.proj`, no bias) and `text_model` (Llama); `lm_head` sits beside `model`
 * and is tied to `model.text_model.embed_tokens` when `tie_word_embeddings` is true.
 */
const checkpoint: CheckpointNames = {
  vision: {
    prefix: `${VISION}.`,
    parameters: [
      `${VISION}.embeddings.patch_embedding.weight`,
      `${VISION}.embeddings.patch_embedding.bias`,
      `${VISION}.embeddings.position_embedding.weight`,
      ...["layer_norm1", "layer_norm2"].flatMap((norm) => [
        `${VISION}.encoder.layers.{i}.${norm}.weight`,
        `${VISION}.encoder.layers.{i}.${norm}.bias`,
      ]),
      ...["q_proj", "k_proj", "v_proj", "out_proj", "mlp.fc1", "mlp.fc2"].flatMap((linear) => {
        const name = linear.startsWith("mlp.") ? linear : `self_attn.${linear}`;
        return [
          `${VISION}.encoder.layers.{i}.${name}.weight`,
          `${VISION}.encoder.layers.{i}.${name}.bias`,
        ];
      }),
      `${VISION}.post_layernorm.weight`,
      `${VISION}.post_layernorm.bias`,
    ],
    verified: true,
    note: "transformers Idefics3VisionTransformer; SigLIP linears and norms carry biases",
    builderNames: visionBuilderNames,
  },
  projector: {
    "pixel-shuffle-linear": {
      prefix: "model.connector.",
      parameters: ["model.connector.modality_projection.proj.weight"],
      verified: true,
      note: "Linear(D·r² → H, no bias) after the NHWC pixel shuffle",
      builderNames: { "proj.weight": "model.connector.modality_projection.proj.weight" },
    },
  },
  text: {
    prefix: `${TEXT}.`,
    parameters: [
      `${TEXT}.embed_tokens.weight`,
      `${TEXT}.layers.{i}.input_layernorm.weight`,
      `${TEXT}.layers.{i}.post_attention_layernorm.weight`,
      ...["q_proj", "k_proj", "v_proj", "o_proj"].map((p) =>
        `${TEXT}.layers.{i}.self_attn.${p}.weight`
      ),
      ...["gate_proj", "up_proj", "down_proj"].map((p) => `${TEXT}.layers.{i}.mlp.${p}.weight`),
      `${TEXT}.norm.weight`,
    ],
    verified: true,
    note: "Llama without attention or MLP biases",
    builderNames: textBuilderNames,
  },
  head: {
    prefix: "lm_head.",
    parameters: ["lm_head.weight"],
    verified: true,
    note: "absent when tie_word_embeddings is true",
    builderNames: { "lm_head.weight": "lm_head.weight" },
  },
};

/** The Idefics3 family. */
export const idefics3Family: ModelFamily = {
  id: "idefics3",
  description: "SmolVLM, SmolVLM2, SmolDocling, granite-docling and Idefics3",
  chatTemplates: ["smolvlm", "idefics3"],
  layouts: [hfIdefics3Layout],
  hfConfig: idefics3HfConfig,
  prompt: idefics3Prompt,
  checkpoint,
};
