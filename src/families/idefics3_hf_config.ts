/**
 * The Hugging Face config codec of the Idefics3 family (SmolVLM, SmolVLM2,
 * SmolDocling, granite-docling, Idefics3): config.json,
 * preprocessor_config.json, processor_config.json and generation_config.json
 * read into a variant spec, and written back from a plan, as transformers and
 * transformers.js read them.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { Plan } from "../spec/plan.ts";
import type { TokenRef } from "../spec/types.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import { maxTilesPerImage } from "../tokens/tiles.ts";
import {
  ACTIVATION_NAMES,
  ACTIVATIONS,
  field,
  type Json,
  llamaTextConfig,
  optional,
  readRopeScaling,
  RESAMPLE,
  RESAMPLE_CODES,
} from "./hf_json.ts";
import { rowColText } from "./idefics3_prompt.ts";
import type { ConfigKey, HfConfigCodec, HfFiles } from "./types.ts";

const CONFIG = "config.json";
const PREPROCESSOR = "preprocessor_config.json";
const GENERATION = "generation_config.json";

/** The `model_type` values of the family's published config.json files. */
const MODEL_TYPES = ["idefics3", "smolvlm"];

function tokenRef(tokenizer: TextTokenizer, text: string): TokenRef {
  return { text, id: tokenizer.tokenId(text) ?? null };
}

function read(
  files: HfFiles,
  tokenizer: TextTokenizer,
  name: string,
  dtypes: Readonly<Record<string, string>>,
): unknown {
  const c = files.config;
  const text = (c.text_config ?? {}) as Json;
  const vision = (c.vision_config ?? {}) as Json;
  const pre = files.preprocessor;
  const hidden = field<number>(text, "hidden_size", CONFIG, "number");
  const heads = field<number>(text, "num_attention_heads", CONFIG, "number");
  const imageTokenId = (c.image_token_id ?? c.image_token_index) as number | undefined;
  const imageText = imageTokenId !== undefined ? tokenizer.tokenText(imageTokenId) : "<image>";
  const eos = files.generation.eos_token_id ?? text.eos_token_id ?? c.eos_token_id;
  const eosIds = (Array.isArray(eos) ? eos : eos === undefined ? [] : [eos]) as number[];
  const eouId = tokenizer.tokenId("<end_of_utterance>");
  const size = (pre.size ?? {}) as Json;
  const maxImage = (pre.max_image_size ?? {}) as Json;
  const tileSize = field<number>(maxImage, "longest_edge", PREPROCESSOR, "number");
  const longestEdge = field<number>(size, "longest_edge", PREPROCESSOR, "number");
  const rowColId = tokenizer.tokenId(rowColText(1, 1));
  const bosText = tokenizer.tokenText(1) === "<|im_start|>" ? "<|im_start|>" : undefined;
  const bosId = files.generation.bos_token_id as number | undefined;
  const imageSize = field<number>(vision, "image_size", CONFIG, "number");
  const patchSize = field<number>(vision, "patch_size", CONFIG, "number");
  return {
    name,
    description: `Hugging Face export (${String(c.model_type ?? "idefics3")})`,
    encoder: {
      family: "siglip",
      imageSize,
      patchSize,
      remainderPixels: imageSize % patchSize === 0 ? "none" : "dropped",
      hidden: field<number>(vision, "hidden_size", CONFIG, "number"),
      layers: field<number>(vision, "num_hidden_layers", CONFIG, "number"),
      heads: field<number>(vision, "num_attention_heads", CONFIG, "number"),
      mlp: field<number>(vision, "intermediate_size", CONFIG, "number"),
      activation: ACTIVATIONS[String(vision.hidden_act ?? "gelu_pytorch_tanh")] ?? "gelu-tanh",
      layerNormEps: optional(vision, "layer_norm_eps", 1e-6),
      featureLayer: "last",
      postLayerNorm: true,
    },
    projector: {
      kind: "pixel-shuffle-linear",
      scaleFactor: field<number>(c, "scale_factor", CONFIG, "number"),
    },
    decoder: {
      family: "llama",
      hidden,
      layers: field<number>(text, "num_hidden_layers", CONFIG, "number"),
      heads,
      kvHeads: optional(text, "num_key_value_heads", heads),
      headDim: optional(text, "head_dim", hidden / heads),
      intermediate: field<number>(text, "intermediate_size", CONFIG, "number"),
      vocab: optional(text, "vocab_size", optional(c, "vocab_size", tokenizer.vocabSize)),
      ropeTheta: optional(text, "rope_theta", 10000),
      ropeScaling: readRopeScaling(text.rope_scaling, CONFIG),
      contextLength: optional(text, "max_position_embeddings", 8192),
      rmsEps: optional(text, "rms_norm_eps", 1e-5),
      tiedEmbeddings: optional(
        text,
        "tie_word_embeddings",
        optional(c, "tie_word_embeddings", false),
      ),
    },
    image: {
      longestEdge,
      tileSize,
      splitting: optional(pre, "do_image_splitting", true),
      // Worst case with splitting on, so a per-request split override stays within the spec.
      maxTiles: Math.max(
        2,
        maxTilesPerImage({ longestEdge, tileSize, splitting: true, padToSquare: false }),
      ),
      resample: RESAMPLE[optional(pre, "resample", 1)] ?? "lanczos",
      rescaleFactor: optional(pre, "rescale_factor", 1 / 255),
      mean: optional(pre, "image_mean", [0.5, 0.5, 0.5]),
      std: optional(pre, "image_std", [0.5, 0.5, 0.5]),
      padToSquare: false,
    },
    video: null,
    tokens: {
      image: { text: imageText ?? "<image>", id: imageTokenId ?? null },
      fakeTokenAroundImage: tokenRef(tokenizer, "<fake_token_around_image>"),
      globalImage: tokenRef(tokenizer, "<global-img>"),
      rowCol: { firstId: rowColId ?? null, maxRows: 6, maxCols: 6 },
      endOfUtterance: { text: "<end_of_utterance>", id: eouId ?? null },
      bos: bosText ? { text: bosText, id: bosId ?? 1 } : null,
      eosIds: eosIds.length > 0 ? eosIds : eouId !== undefined ? [eouId] : [],
      padId: (files.generation.pad_token_id ?? text.pad_token_id ?? null) as number | null,
      chatTemplate: "smolvlm",
    },
    artifacts: {
      layout: "hf-idefics3",
      modules: {
        vision_encoder: { file: "onnx/vision_encoder", dtype: dtypes.vision_encoder },
        embed_tokens: { file: "onnx/embed_tokens", dtype: dtypes.embed_tokens },
        decoder_model_merged: {
          file: "onnx/decoder_model_merged",
          dtype: dtypes.decoder_model_merged,
        },
      },
      hubRepo: null,
    },
    provenance: { sources: [CONFIG, PREPROCESSOR], unverified: [] },
  };
}

function check(files: HfFiles, plan: Plan): void {
  const seqLen = files.processor.image_seq_len;
  if (seqLen !== undefined && seqLen !== plan.tokensPerTile) {
    throw new VlmError(
      "model_mismatch",
      `processor_config.json says image_seq_len ${seqLen}, but the encoder geometry gives ${plan.tokensPerTile} tokens per tile`,
      { fix: "restore processor_config.json or config.json from the same model" },
    );
  }
  if (plan.spec.tokens.image.id === null) {
    throw new VlmError("model_invalid", "config.json has no image_token_id", {
      fix: "restore config.json from the model's published copy",
    });
  }
}

function write(plan: Plan, externalData: boolean): Record<string, unknown> {
  const { spec } = plan;
  const e = spec.encoder;
  if (spec.projector.kind !== "pixel-shuffle-linear") {
    throw new Error("the hf-idefics3 layout needs a pixel-shuffle-linear projector");
  }
  const t = spec.tokens;
  const config = {
    architectures: ["Idefics3ForConditionalGeneration"],
    model_type: "idefics3",
    image_token_id: t.image.id,
    scale_factor: spec.projector.scaleFactor,
    tie_word_embeddings: spec.decoder.tiedEmbeddings,
    vocab_size: spec.decoder.vocab,
    pad_token_id: t.padId,
    use_cache: true,
    torch_dtype: "float32",
    text_config: llamaTextConfig(spec.decoder, {
      bos: t.bos?.id ?? null,
      eos: t.eosIds[0] ?? null,
      pad: t.padId,
    }),
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
    // transformers.js fetches `<file>.onnx_data` only when told to.
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
  return {
    [CONFIG]: config,
    [GENERATION]: {
      bos_token_id: t.bos?.id ?? null,
      eos_token_id: t.eosIds.length === 1 ? t.eosIds[0] : t.eosIds,
      pad_token_id: t.padId,
    },
    [PREPROCESSOR]: preprocessor,
    "processor_config.json": { image_seq_len: plan.tokensPerTile },
    // The tokenizer files come from the builder; these are the family's keys in them.
    "tokenizer_config.json": {
      processor_class: "Idefics3Processor",
      tokenizer_class: "GPT2Tokenizer",
    },
  };
}

const config = (key: string): ConfigKey => ({ file: CONFIG, key });
const preprocessor = (key: string): ConfigKey => ({ file: PREPROCESSOR, key });

/** Spec field → the config keys `read` takes it from. */
const SOURCES: Record<string, readonly ConfigKey[]> = {
  "encoder.imageSize": [config("vision_config.image_size")],
  "encoder.patchSize": [config("vision_config.patch_size")],
  "encoder.remainderPixels": [
    config("vision_config.image_size"),
    config("vision_config.patch_size"),
  ],
  "encoder.hidden": [config("vision_config.hidden_size")],
  "encoder.layers": [config("vision_config.num_hidden_layers")],
  "encoder.heads": [
    config("vision_config.num_attention_heads"),
    config("vision_config.hidden_size"),
  ],
  "encoder.mlp": [config("vision_config.intermediate_size")],
  "encoder.activation": [config("vision_config.hidden_act")],
  "encoder.layerNormEps": [config("vision_config.layer_norm_eps")],
  "projector": [config("scale_factor")],
  "decoder.hidden": [config("text_config.hidden_size")],
  "decoder.layers": [config("text_config.num_hidden_layers")],
  "decoder.heads": [config("text_config.num_attention_heads")],
  "decoder.kvHeads": [
    config("text_config.num_key_value_heads"),
    config("text_config.num_attention_heads"),
  ],
  // head_dim defaults to hidden_size / num_attention_heads, so all three decide it.
  "decoder.headDim": [
    config("text_config.hidden_size"),
    config("text_config.num_attention_heads"),
    config("text_config.head_dim"),
  ],
  "decoder.intermediate": [config("text_config.intermediate_size")],
  "decoder.vocab": [config("text_config.vocab_size"), config("vocab_size")],
  "decoder.ropeTheta": [config("text_config.rope_theta")],
  "decoder.ropeScaling": [config("text_config.rope_scaling")],
  "decoder.contextLength": [config("text_config.max_position_embeddings")],
  "decoder.rmsEps": [config("text_config.rms_norm_eps")],
  "decoder.tiedEmbeddings": [config("text_config.tie_word_embeddings")],
  "image.longestEdge": [preprocessor("size.longest_edge")],
  "image.tileSize": [
    preprocessor("max_image_size.longest_edge"),
    config("vision_config.image_size"),
  ],
  "image.splitting": [preprocessor("do_image_splitting")],
  "image.resample": [preprocessor("resample")],
  "image.rescaleFactor": [preprocessor("rescale_factor")],
  "image.mean": [preprocessor("image_mean")],
  "image.std": [preprocessor("image_std")],
  "tokens.image": [config("image_token_id")],
  "tokens.eosIds": [{ file: GENERATION, key: "eos_token_id" }, config("text_config.eos_token_id")],
  "tokens.padId": [{ file: GENERATION, key: "pad_token_id" }, config("text_config.pad_token_id")],
  "tokens.bos": [{ file: GENERATION, key: "bos_token_id" }],
};

/** The Idefics3 family's Hugging Face config codec. */
export const idefics3HfConfig: HfConfigCodec = {
  layout: "hf-idefics3",
  accepts: (c) => c.model_type === undefined || MODEL_TYPES.includes(String(c.model_type)),
  read,
  check,
  write,
  sources: SOURCES,
};
