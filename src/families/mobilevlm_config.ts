/**
 * The MobileVLM checkpoint config codec: a MobileVLM checkpoint's config.json
 * (`MobileVLMConfig` = transformers' `LlamaConfig` + the `mm_*` keys) and the
 * CLIP vision tower's config.json (`CLIPVisionConfig`, or a `CLIPModel` config
 * with a `vision_config`) plus its optional preprocessor_config.json, read
 * into the variant spec `vlm convert` builds, so no `--variant` is needed.
 *
 * Source of the keys and their meaning: Meituan-AutoML/MobileVLM @ 688fdec,
 * `mobilevlm/model/mobilellama.py` (MobileVLMConfig, model_type "mobilevlm"),
 * `mobilevlm/model/mobilevlm.py` (`initialize_vision_modules` writes
 * `mm_vision_tower`, `mm_projector_type`, `mm_vision_select_layer`,
 * `mm_vision_select_feature`, `mm_hidden_size` = the tower's hidden size),
 * `mobilevlm/model/vision_projector.py` (`build_vision_projector`: a type
 * starting with `ldpnetv2` → LDPv2, else `ldpnet` → LDP, `linear`/`mlp*` are
 * LLaVA's), `mobilevlm/model/vision_encoder.py` (`build_vision_tower` needs
 * `vision_tower_type` "clip"; `feature_select` takes `hidden_states[select_layer]`
 * without CLS for "patch"), `mobilevlm/utils.py` (`image_aspect_ratio` "pad"
 * = expand2square) and `mobilevlm/constants.py` (IMAGE_TOKEN_INDEX −200).
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { SpecIssue } from "../errors/spec_error.ts";
import type { ProjectorSpec, VariantSpec } from "../spec/types.ts";
import { configKeysOf } from "./config_issues.ts";
import { ACTIVATIONS, field, type Json, optional, readRopeScaling, RESAMPLE } from "./hf_json.ts";
import type { CheckpointConfigCodec, CheckpointConfigs, ConfigKey } from "./types.ts";

/** MobileVLM's image placeholder id (`IMAGE_TOKEN_INDEX`), replaced by feature rows. */
export const MOBILEVLM_IMAGE_TOKEN_INDEX: number = -200;

/** `openai/clip-vit-large-patch14-336`'s preprocessor values, used when the folder has none. */
const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** Where an error says a key lives: `<folder>/config.json key`. */
function at(folder: string, key: string, file = "config.json"): string {
  return `${folder.replace(/\/$/, "")}/${file} ${key}`;
}

function mismatch(message: string, fix: string): VlmError {
  return new VlmError("model_mismatch", message, { fix });
}

/** `mm_projector_type` → the builder's projector, as `build_vision_projector` dispatches. */
function readProjector(main: Json, folder: string): ProjectorSpec {
  const type = main.mm_projector_type;
  if (typeof type === "string" && type.startsWith("ldpnetv2")) return { kind: "ldpv2" };
  if (typeof type === "string" && type.startsWith("ldpnet")) return { kind: "ldp" };
  throw new VlmError(
    "model_invalid",
    `${at(folder, "mm_projector_type")} = ${
      JSON.stringify(type)
    }: vlmkit converts MobileVLM's ldpnet (V1) and ldpnetv2 (V2) projectors only`,
    { fix: "convert a MobileVLM or MobileVLM V2 checkpoint, or pass --variant with a spec" },
  );
}

/** `mm_vision_select_layer` (an index into `hidden_states`, 0 = embeddings) → the feature layer. */
function readFeatureLayer(
  main: Json,
  layers: number,
  folder: string,
  encoderFolder: string,
): VariantSpec["encoder"]["featureLayer"] {
  const select = optional(main, "mm_vision_select_layer", -2);
  const index = typeof select === "number" && select < 0 ? layers + 1 + select : select;
  if (index === layers) return "last";
  if (index === layers - 1) return "penultimate";
  throw mismatch(
    `${at(folder, "mm_vision_select_layer")} = ${JSON.stringify(select)} selects hidden state ${
      String(index)
    } of a tower with ${at(encoderFolder, "num_hidden_layers")} = ${layers}; the builder ` +
      "feeds the projector the last or the penultimate layer only",
    "use mm_vision_select_layer -2 (MobileVLM's value) or -1",
  );
}

/** Checks of the MobileVLM keys the spec has no field for, and of the two configs together. */
function checkKeys(main: Json, vision: Json, folder: string, encoderFolder: string): void {
  const feature = optional(main, "mm_vision_select_feature", "patch");
  if (feature !== "patch") {
    throw new VlmError(
      "model_invalid",
      `${at(folder, "mm_vision_select_feature")} = ${
        JSON.stringify(feature)
      }: only "patch" (CLS dropped) is built`,
      { fix: 'set mm_vision_select_feature to "patch"' },
    );
  }
  const towerType = main.vision_tower_type;
  if (towerType !== undefined && towerType !== "clip") {
    throw new VlmError(
      "model_invalid",
      `${at(folder, "vision_tower_type")} = ${
        JSON.stringify(towerType)
      }: MobileVLM loads "clip" towers only`,
      { fix: 'convert a checkpoint with vision_tower_type "clip"' },
    );
  }
  if (main.mm_use_im_start_end === true) {
    throw new VlmError(
      "model_invalid",
      `${at(folder, "mm_use_im_start_end")} = true: image start/end tokens are not modelled`,
      { fix: "convert a checkpoint trained with mm_use_im_start_end false (every release)" },
    );
  }
  const mmHidden = main.mm_hidden_size;
  const clipHidden = vision.hidden_size;
  if (mmHidden !== undefined && mmHidden !== clipHidden) {
    throw mismatch(
      `${at(folder, "mm_hidden_size")} = ${JSON.stringify(mmHidden)} but ${
        at(encoderFolder, "hidden_size")
      } = ${JSON.stringify(clipHidden)}: the projector was trained on a different vision tower`,
      `pass --encoder-from the CLIP checkpoint named by mm_vision_tower (${
        JSON.stringify(main.mm_vision_tower)
      })`,
    );
  }
}

/** The CLIP tower's own keys: a CLIPVisionConfig, or a CLIPModel config's `vision_config`. */
function visionConfig(config: Json): Json {
  const nested = config.vision_config;
  return typeof nested === "object" && nested !== null ? nested as Json : config;
}

/** Folder name → spec name (lower-case kebab), as model folders are named. */
function specName(folder: string): string {
  const last = folder.replace(/\/$/, "").split(/[/:]/).pop() ?? "";
  return last.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[^a-z0-9]+|-+$/g, "") ||
    "mobilevlm";
}

/** The spec the two configs describe, not yet validated. */
function read(configs: CheckpointConfigs): unknown {
  const { main, encoder } = configs;
  if (!encoder) {
    throw new VlmError(
      "usage",
      `${main.folder} is a MobileVLM checkpoint without its vision tower; its config names ` +
        `mm_vision_tower = ${JSON.stringify(main.config.mm_vision_tower)}`,
      { fix: "pass --encoder-from with that CLIP checkpoint's folder, or --variant V" },
    );
  }
  const c = main.config;
  const file = `${main.folder}/config.json`;
  const encoderFile = `${encoder.folder}/config.json`;
  const vision = visionConfig(encoder.config);
  checkKeys(c, vision, main.folder, encoder.folder);
  const layers = field<number>(vision, "num_hidden_layers", encoderFile, "number");
  const imageSize = field<number>(vision, "image_size", encoderFile, "number");
  const patchSize = field<number>(vision, "patch_size", encoderFile, "number");
  const hidden = field<number>(c, "hidden_size", file, "number");
  const heads = field<number>(c, "num_attention_heads", file, "number");
  const eos = c.eos_token_id ?? 2;
  const eosIds = (Array.isArray(eos) ? eos : [eos]) as number[];
  const pre = encoder.preprocessor ?? {};
  const bos = c.bos_token_id ?? 1;
  return {
    name: specName(main.folder),
    description: `MobileVLM checkpoint ${main.folder} with the CLIP tower ${encoder.folder}`,
    encoder: {
      family: "clip-vit",
      imageSize,
      patchSize,
      remainderPixels: imageSize % patchSize === 0 ? "none" : "dropped",
      hidden: field<number>(vision, "hidden_size", encoderFile, "number"),
      layers,
      heads: field<number>(vision, "num_attention_heads", encoderFile, "number"),
      mlp: field<number>(vision, "intermediate_size", encoderFile, "number"),
      // CLIPVisionConfig's defaults: quick_gelu, 1e-5.
      activation: ACTIVATIONS[String(vision.hidden_act ?? "quick_gelu")] ??
        String(vision.hidden_act),
      layerNormEps: optional(vision, "layer_norm_eps", 1e-5),
      featureLayer: readFeatureLayer(c, layers, main.folder, encoder.folder),
      // hidden_states[k] is a block's output; CLIP's post_layernorm only touches pooler_output.
      postLayerNorm: false,
    },
    projector: readProjector(c, main.folder),
    decoder: {
      family: "llama",
      hidden,
      layers: field<number>(c, "num_hidden_layers", file, "number"),
      heads,
      kvHeads: optional(c, "num_key_value_heads", heads),
      headDim: optional(c, "head_dim", hidden / heads),
      intermediate: field<number>(c, "intermediate_size", file, "number"),
      vocab: field<number>(c, "vocab_size", file, "number"),
      ropeTheta: optional(c, "rope_theta", 10000),
      ropeScaling: readRopeScaling(c.rope_scaling, file),
      contextLength: optional(c, "max_position_embeddings", 2048),
      rmsEps: optional(c, "rms_norm_eps", 1e-6),
      // MobileLlamaForCausalLM's lm_head is its own Linear.
      tiedEmbeddings: optional(c, "tie_word_embeddings", false),
    },
    image: {
      longestEdge: imageSize,
      tileSize: imageSize,
      splitting: false,
      maxTiles: 1,
      resample: RESAMPLE[optional(pre, "resample", 3)] ?? "bicubic",
      rescaleFactor: optional(pre, "rescale_factor", 1 / 255),
      mean: optional(pre, "image_mean", CLIP_MEAN),
      std: optional(pre, "image_std", CLIP_STD),
      // utils.process_images: "pad" = expand2square; anything else is a resize MobileVLM's
      // conversation (one pad-to-square view) is not built for.
      padToSquare: c.image_aspect_ratio === "pad",
    },
    video: null,
    tokens: {
      image: { text: "<image>", id: MOBILEVLM_IMAGE_TOKEN_INDEX },
      fakeTokenAroundImage: null,
      globalImage: null,
      rowCol: null,
      endOfUtterance: { text: "</s>", id: eosIds[0] ?? 2 },
      bos: bos === null ? null : { text: "<s>", id: bos },
      eosIds,
      padId: (c.pad_token_id ?? null) as number | null,
      chatTemplate: "mobilevlm-v1",
    },
    artifacts: {
      layout: "modular",
      modules: {
        encoder: { file: "onnx/encoder", dtype: "fp32" },
        projector: { file: "onnx/projector", dtype: "fp32" },
        embed_tokens: { file: "onnx/embed_tokens", dtype: "fp32" },
        decoder: { file: "onnx/decoder", dtype: "fp32" },
      },
      hubRepo: null,
    },
    provenance: { sources: [file, encoderFile], unverified: [] },
  };
}

const main = (key: string): ConfigKey => ({ file: "config.json", key });
const clip = (key: string): ConfigKey => ({ file: "encoder config.json", key });

/** Spec field → the config keys `read` takes it from (for validation errors). */
const SOURCES: Record<string, readonly ConfigKey[]> = {
  "encoder.imageSize": [clip("image_size")],
  "encoder.patchSize": [clip("patch_size")],
  "encoder.remainderPixels": [clip("image_size"), clip("patch_size")],
  "encoder.hidden": [clip("hidden_size")],
  "encoder.layers": [clip("num_hidden_layers")],
  "encoder.heads": [clip("num_attention_heads"), clip("hidden_size")],
  "encoder.mlp": [clip("intermediate_size")],
  "encoder.activation": [clip("hidden_act")],
  "encoder.layerNormEps": [clip("layer_norm_eps")],
  "encoder.featureLayer": [main("mm_vision_select_layer"), clip("num_hidden_layers")],
  "projector": [main("mm_projector_type"), clip("image_size"), clip("patch_size")],
  "decoder.hidden": [main("hidden_size")],
  "decoder.layers": [main("num_hidden_layers")],
  "decoder.heads": [main("num_attention_heads")],
  "decoder.kvHeads": [main("num_key_value_heads"), main("num_attention_heads")],
  "decoder.headDim": [main("hidden_size"), main("num_attention_heads"), main("head_dim")],
  "decoder.intermediate": [main("intermediate_size")],
  "decoder.vocab": [main("vocab_size")],
  "decoder.ropeTheta": [main("rope_theta")],
  "decoder.contextLength": [main("max_position_embeddings")],
  "decoder.rmsEps": [main("rms_norm_eps")],
  "image.padToSquare": [main("image_aspect_ratio")],
  "image.splitting": [main("image_aspect_ratio")],
  "image.resample": [{ file: "encoder preprocessor_config.json", key: "resample" }],
  "image.mean": [{ file: "encoder preprocessor_config.json", key: "image_mean" }],
  "image.std": [{ file: "encoder preprocessor_config.json", key: "image_std" }],
  "image": [clip("image_size")],
  "tokens.bos": [main("bos_token_id")],
  "tokens.eosIds": [main("eos_token_id")],
  "tokens.endOfUtterance": [main("eos_token_id")],
  "tokens.padId": [main("pad_token_id")],
  "tokens.chatTemplate": [main("image_aspect_ratio")],
};

/** The value at a dotted key of one of the configs, as an error shows it. */
function valueOf(configs: CheckpointConfigs, { file, key }: ConfigKey): string {
  const object = file === "config.json"
    ? configs.main.config
    : file === "encoder config.json"
    ? visionConfig(configs.encoder?.config ?? {})
    : configs.encoder?.preprocessor ?? {};
  const value = key.split(".").reduce<unknown>(
    (v, part) => typeof v === "object" && v !== null ? (v as Json)[part] : undefined,
    object,
  );
  return value === undefined ? "absent" : JSON.stringify(value);
}

/** `encoder config.json` → the encoder folder's path, `config.json` → the main folder's. */
function pathOf(configs: CheckpointConfigs, file: string): string {
  if (file === "config.json") return `${configs.main.folder}/config.json`;
  return `${configs.encoder?.folder}/${file.replace(/^encoder /, "")}`;
}

/** Validation issues told as the config keys behind them, in both folders. */
function explain(issues: readonly SpecIssue[], configs: CheckpointConfigs): VlmError {
  const lines = issues.map((issue) => {
    const keys = configKeysOf(issue.path, SOURCES);
    const named = keys.map((k) => `${pathOf(configs, k.file)} ${k.key} = ${valueOf(configs, k)}`);
    return `  - ${named.length > 0 ? named.join(", ") : issue.path}: ${issue.message}`;
  });
  const first = issues.map((i) => configKeysOf(i.path, SOURCES)).find((k) => k.length > 0);
  return new VlmError(
    "model_invalid",
    `the configs of ${configs.main.folder} and ${configs.encoder?.folder} describe a model ` +
      `vlmkit cannot build (${issues.length} issue${issues.length === 1 ? "" : "s"}):\n${
        lines.join("\n")
      }`,
    {
      fix: first
        ? `correct ${first.map((k) => `${pathOf(configs, k.file)} ${k.key}`).join(", ")}, ` +
          "or pass --variant with a spec"
        : "pass --variant with a spec",
    },
  );
}

/** The MobileVLM family's checkpoint config codec. */
export const mobileVlmCheckpointConfig: CheckpointConfigCodec = {
  accepts: (config) =>
    config.model_type === "mobilevlm" ||
    (typeof config.mm_projector_type === "string" && config.mm_projector_type.startsWith("ldp")),
  read,
  explain,
};
