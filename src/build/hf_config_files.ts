/**
 * The JSON files of an hf-idefics3 folder: what the runtime's
 * `specFromHfFiles` and transformers.js read to rebuild the variant.
 *
 * @module
 */
import type { Plan } from "../spec/plan.ts";
import type { Resample, VariantSpec } from "../spec/types.ts";
import { chatTemplateFor } from "./chat_templates.ts";
import { specialTokens, tokenizerJson } from "./synthetic_tokenizer.ts";

const ACTIVATION_NAMES = {
  "gelu-tanh": "gelu_pytorch_tanh",
  gelu: "gelu",
  "quick-gelu": "quick_gelu",
};
const RESAMPLE_CODES: Record<Resample, number> = { lanczos: 1, bilinear: 2, bicubic: 3 };

function textConfig(spec: VariantSpec): Record<string, unknown> {
  const d = spec.decoder;
  return {
    model_type: "llama",
    vocab_size: d.vocab,
    hidden_size: d.hidden,
    intermediate_size: d.intermediate,
    num_hidden_layers: d.layers,
    num_attention_heads: d.heads,
    num_key_value_heads: d.kvHeads,
    head_dim: d.headDim,
    hidden_act: "silu",
    rms_norm_eps: d.rmsEps,
    rope_theta: d.ropeTheta,
    rope_scaling: d.ropeScaling
      ? {
        rope_type: d.ropeScaling.type,
        factor: d.ropeScaling.factor,
        low_freq_factor: d.ropeScaling.lowFreqFactor,
        high_freq_factor: d.ropeScaling.highFreqFactor,
        original_max_position_embeddings: d.ropeScaling.originalContextLength,
      }
      : null,
    max_position_embeddings: d.contextLength,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: d.tiedEmbeddings,
    bos_token_id: spec.tokens.bos?.id ?? null,
    eos_token_id: spec.tokens.eosIds[0] ?? null,
    pad_token_id: spec.tokens.padId,
    torch_dtype: "float32",
  };
}

/**
 * `{file name: JSON}` for every config file of the folder. `externalData`
 * tells transformers.js to fetch `<file>.onnx_data` (it does not look for it
 * otherwise).
 */
export function hfConfigFiles(plan: Plan, externalData = false): Record<string, unknown> {
  const { spec } = plan;
  const e = spec.encoder;
  if (spec.projector.kind !== "pixel-shuffle-linear") {
    throw new Error("the hf-idefics3 layout needs a pixel-shuffle-linear projector");
  }
  const config = {
    architectures: ["Idefics3ForConditionalGeneration"],
    model_type: "idefics3",
    image_token_id: spec.tokens.image.id,
    scale_factor: spec.projector.scaleFactor,
    tie_word_embeddings: spec.decoder.tiedEmbeddings,
    vocab_size: spec.decoder.vocab,
    pad_token_id: spec.tokens.padId,
    use_cache: true,
    torch_dtype: "float32",
    text_config: textConfig(spec),
    vision_config: {
      model_type: "idefics3_vision",
      hidden_size: e.hidden,
      image_size: e.imageSize,
      patch_size: e.patchSize,
      num_channels: 3,
      num_hidden_layers: e.layers,
      num_attention_heads: e.heads,
      intermediate_size: e.mlp,
      hidden_act: ACTIVATION_NAMES[e.activation],
      layer_norm_eps: e.layerNormEps,
      attention_dropout: 0,
    },
    "transformers.js_config": externalData ? { use_external_data_format: true } : {},
  };
  const i = spec.image;
  const preprocessor = {
    image_processor_type: "Idefics3ImageProcessor",
    processor_class: "Idefics3Processor",
    do_convert_rgb: true,
    do_resize: true,
    size: { longest_edge: i.longestEdge },
    resample: RESAMPLE_CODES[i.resample],
    do_rescale: true,
    rescale_factor: i.rescaleFactor,
    do_normalize: true,
    image_mean: i.mean,
    image_std: i.std,
    do_pad: true,
    do_image_splitting: i.splitting,
    max_image_size: { longest_edge: i.tileSize },
  };
  const t = spec.tokens;
  const template = chatTemplateFor(t);
  const specials = specialTokens(spec);
  const textOf = (id: number | null) => id === null ? null : specials.get(id) ?? null;
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(
      [...specials].map(([id, content]) => [String(id), {
        content,
        lstrip: false,
        normalized: false,
        rstrip: false,
        single_word: false,
        special: true,
      }]),
    ),
    bos_token: t.bos?.text ?? null,
    chat_template: template,
    clean_up_tokenization_spaces: false,
    eos_token: t.endOfUtterance.text,
    model_max_length: spec.decoder.contextLength,
    pad_token: textOf(t.padId),
    processor_class: "Idefics3Processor",
    tokenizer_class: "GPT2Tokenizer",
    unk_token: textOf(0),
  };
  return {
    "config.json": config,
    "generation_config.json": {
      bos_token_id: t.bos?.id ?? null,
      eos_token_id: t.eosIds.length === 1 ? t.eosIds[0] : t.eosIds,
      pad_token_id: t.padId,
    },
    "preprocessor_config.json": preprocessor,
    "processor_config.json": { image_seq_len: plan.tokensPerTile },
    "chat_template.json": { chat_template: template },
    "tokenizer_config.json": tokenizerConfig,
    "tokenizer.json": tokenizerJson(spec),
  };
}
