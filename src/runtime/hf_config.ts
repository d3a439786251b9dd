/**
 * Turns the Hugging Face files of an Idefics3/SmolVLM export (config.json,
 * preprocessor_config.json, processor_config.json, generation_config.json and
 * the tokenizer) into a validated {@linkcode VariantSpec}, so a downloaded
 * model gets the same Plan, checks and token accounting as a preset.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { parseSpec } from "../spec/validate.ts";
import type { Activation, Dtype, TokenRef, VariantSpec } from "../spec/types.ts";
import { rowColText } from "../tokens/prompt.ts";
import { maxTilesPerImage } from "../tokens/tiles.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";

/** The parsed JSON files of a model folder. */
export interface HfFiles {
  /** config.json */
  config: Record<string, unknown>;
  /** preprocessor_config.json */
  preprocessor: Record<string, unknown>;
  /** processor_config.json (may be empty) */
  processor: Record<string, unknown>;
  /** generation_config.json (may be empty) */
  generation: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function field<T>(
  object: Json,
  key: string,
  file: string,
  kind: "number" | "string" | "boolean",
): T {
  const value = object[key];
  const actual = typeof value;
  if (actual !== kind) {
    throw new VlmError(
      "model_invalid",
      `${file}: field "${key}" must be a ${kind}, got ${JSON.stringify(value)}`,
      {
        fix: `restore ${file} from the model's published copy`,
      },
    );
  }
  return value as T;
}

function optional<T>(object: Json, key: string, fallback: T): T {
  return (object[key] ?? fallback) as T;
}

const ACTIVATIONS: Record<string, Activation> = {
  gelu_pytorch_tanh: "gelu-tanh",
  "gelu-tanh": "gelu-tanh",
  gelu_new: "gelu-tanh",
  gelu: "gelu",
  quick_gelu: "quick-gelu",
};

const RESAMPLE: Record<number, "lanczos" | "bicubic" | "bilinear"> = {
  1: "lanczos",
  2: "bilinear",
  3: "bicubic",
};

/** Llama 3.1 `rope_scaling` → the spec's form; `null` for plain RoPE. */
function ropeScaling(value: unknown): VariantSpec["decoder"]["ropeScaling"] {
  if (value === null || value === undefined) return null;
  const s = value as Json;
  const type = s.rope_type ?? s.type;
  if (type !== "llama3") {
    throw new VlmError(
      "model_invalid",
      `config.json: rope_scaling type ${JSON.stringify(type)} is not supported`,
      {
        fix: 'only Llama 3.1 (rope_type "llama3") frequency scaling is implemented',
      },
    );
  }
  return {
    type: "llama3",
    factor: field<number>(s, "factor", "config.json", "number"),
    lowFreqFactor: field<number>(s, "low_freq_factor", "config.json", "number"),
    highFreqFactor: field<number>(s, "high_freq_factor", "config.json", "number"),
    originalContextLength: field<number>(
      s,
      "original_max_position_embeddings",
      "config.json",
      "number",
    ),
  };
}

function tokenRef(tokenizer: TextTokenizer, text: string): TokenRef {
  return { text, id: tokenizer.tokenId(text) ?? null };
}

/**
 * Builds the spec of a Hugging Face Idefics3/SmolVLM folder. `dtypes` picks
 * the ONNX file per module; `name` labels the spec.
 */
export function specFromHfFiles(
  files: HfFiles,
  tokenizer: TextTokenizer,
  name: string,
  dtypes: Record<"vision_encoder" | "embed_tokens" | "decoder_model_merged", Dtype>,
): VariantSpec {
  const c = files.config;
  const text = (c.text_config ?? {}) as Json;
  const vision = (c.vision_config ?? {}) as Json;
  const pre = files.preprocessor;
  const cfg = "config.json";
  const hidden = field<number>(text, "hidden_size", cfg, "number");
  const heads = field<number>(text, "num_attention_heads", cfg, "number");
  const imageTokenId = (c.image_token_id ?? c.image_token_index) as number | undefined;
  const imageText = imageTokenId !== undefined ? tokenizer.tokenText(imageTokenId) : "<image>";
  const eos = files.generation.eos_token_id ?? text.eos_token_id ?? c.eos_token_id;
  const eosIds = (Array.isArray(eos) ? eos : eos === undefined ? [] : [eos]) as number[];
  const eouId = tokenizer.tokenId("<end_of_utterance>");
  const size = (pre.size ?? {}) as Json;
  const maxImage = (pre.max_image_size ?? {}) as Json;
  const tileSize = field<number>(maxImage, "longest_edge", "preprocessor_config.json", "number");
  const longestEdge = field<number>(size, "longest_edge", "preprocessor_config.json", "number");
  const rowColId = tokenizer.tokenId(rowColText(1, 1));
  const bosText = tokenizer.tokenText(1) === "<|im_start|>" ? "<|im_start|>" : undefined;
  const bosId = files.generation.bos_token_id as number | undefined;
  const imageSize = field<number>(vision, "image_size", cfg, "number");
  const patchSize = field<number>(vision, "patch_size", cfg, "number");
  const spec = {
    name,
    description: `Hugging Face export (${String(c.model_type ?? "idefics3")})`,
    encoder: {
      family: "siglip",
      imageSize,
      patchSize,
      remainderPixels: imageSize % patchSize === 0 ? "none" : "dropped",
      hidden: field<number>(vision, "hidden_size", cfg, "number"),
      layers: field<number>(vision, "num_hidden_layers", cfg, "number"),
      heads: field<number>(vision, "num_attention_heads", cfg, "number"),
      mlp: field<number>(vision, "intermediate_size", cfg, "number"),
      activation: ACTIVATIONS[String(vision.hidden_act ?? "gelu_pytorch_tanh")] ?? "gelu-tanh",
      layerNormEps: optional(vision, "layer_norm_eps", 1e-6),
      featureLayer: "last",
      postLayerNorm: true,
    },
    projector: {
      kind: "pixel-shuffle-linear",
      scaleFactor: field<number>(c, "scale_factor", cfg, "number"),
    },
    decoder: {
      family: "llama",
      hidden,
      layers: field<number>(text, "num_hidden_layers", cfg, "number"),
      heads,
      kvHeads: optional(text, "num_key_value_heads", heads),
      headDim: optional(text, "head_dim", hidden / heads),
      intermediate: field<number>(text, "intermediate_size", cfg, "number"),
      vocab: optional(text, "vocab_size", optional(c, "vocab_size", tokenizer.vocabSize)),
      ropeTheta: optional(text, "rope_theta", 10000),
      ropeScaling: ropeScaling(text.rope_scaling),
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
    provenance: { sources: ["config.json", "preprocessor_config.json"], unverified: [] },
  };
  return parseSpec(spec);
}
