/**
 * Small readers and value tables shared by the Hugging Face config codecs:
 * typed field access with errors that name the file, activation and
 * resampling names, and Llama 3.1 `rope_scaling` in both directions.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { Activation, DecoderSpec, Resample } from "../spec/types.ts";

/** A parsed JSON object. */
export type Json = Record<string, unknown>;

/** `object[key]`, which must have type `kind` (else a `model_invalid` error naming `file`). */
export function field<T>(
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
      { fix: `restore ${file} from the model's published copy` },
    );
  }
  return value as T;
}

/** `object[key]`, or `fallback` when it is absent or null. */
export function optional<T>(object: Json, key: string, fallback: T): T {
  return (object[key] ?? fallback) as T;
}

/** `hidden_act` values → the spec's activation. */
export const ACTIVATIONS: Readonly<Record<string, Activation>> = {
  gelu_pytorch_tanh: "gelu-tanh",
  "gelu-tanh": "gelu-tanh",
  gelu_new: "gelu-tanh",
  gelu: "gelu",
  quick_gelu: "quick-gelu",
};

/** The spec's activation → the `hidden_act` value written. */
export const ACTIVATION_NAMES: Readonly<Record<Activation, string>> = {
  "gelu-tanh": "gelu_pytorch_tanh",
  gelu: "gelu",
  "quick-gelu": "quick_gelu",
};

/** PIL resampling codes → the spec's filter. */
export const RESAMPLE: Readonly<Record<number, Resample>> = {
  1: "lanczos",
  2: "bilinear",
  3: "bicubic",
};

/** The spec's filter → PIL resampling code. */
export const RESAMPLE_CODES: Readonly<Record<Resample, number>> = {
  lanczos: 1,
  bilinear: 2,
  bicubic: 3,
};

/** Llama 3.1 `rope_scaling` → the spec's form; `null` for plain RoPE. */
export function readRopeScaling(value: unknown, file: string): DecoderSpec["ropeScaling"] {
  if (value === null || value === undefined) return null;
  const s = value as Json;
  const type = s.rope_type ?? s.type;
  if (type !== "llama3") {
    throw new VlmError(
      "model_invalid",
      `${file}: rope_scaling type ${JSON.stringify(type)} is not supported`,
      { fix: 'only Llama 3.1 (rope_type "llama3") frequency scaling is implemented' },
    );
  }
  return {
    type: "llama3",
    factor: field<number>(s, "factor", file, "number"),
    lowFreqFactor: field<number>(s, "low_freq_factor", file, "number"),
    highFreqFactor: field<number>(s, "high_freq_factor", file, "number"),
    originalContextLength: field<number>(s, "original_max_position_embeddings", file, "number"),
  };
}

/** The spec's RoPE scaling → `rope_scaling` (null for plain RoPE). */
export function writeRopeScaling(scaling: DecoderSpec["ropeScaling"]): Json | null {
  if (!scaling) return null;
  return {
    rope_type: scaling.type,
    factor: scaling.factor,
    low_freq_factor: scaling.lowFreqFactor,
    high_freq_factor: scaling.highFreqFactor,
    original_max_position_embeddings: scaling.originalContextLength,
  };
}

/** The Llama `text_config` of a decoder spec (what transformers' LlamaConfig reads). */
export function llamaTextConfig(
  decoder: DecoderSpec,
  ids: { bos: number | null; eos: number | null; pad: number | null },
): Json {
  const d = decoder;
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
    rope_scaling: writeRopeScaling(d.ropeScaling),
    max_position_embeddings: d.contextLength,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: d.tiedEmbeddings,
    bos_token_id: ids.bos,
    eos_token_id: ids.eos,
    pad_token_id: ids.pad,
    torch_dtype: "float32",
  };
}
