/**
 * The variant spec: a complete, explicit description of one vision-language
 * model variant. Every field is required: nothing is inherited from library
 * class defaults, because those defaults differ between implementations and
 * have silently broken real exports (see the README's "Variant spec" section).
 *
 * These interfaces are the public types; `schema.ts` holds the zod schema that
 * validates untrusted JSON into them.
 *
 * @module
 */

/** Vision tower family. */
export type EncoderFamily = "siglip" | "clip-vit";

/** Activation functions used by encoders and MLP projectors. */
export type Activation = "gelu-tanh" | "gelu" | "quick-gelu";

/** Which encoder hidden state feeds the projector. */
export type FeatureLayer = "last" | "penultimate";

/** Vision encoder (a ViT over square tiles). */
export interface EncoderSpec {
  /** `siglip` (no class token, conv patch embed with bias) or `clip-vit` (class token, pre-LN, conv without bias). */
  family: EncoderFamily;
  /** Input tile side in pixels, e.g. 512. */
  imageSize: number;
  /** Patch side in pixels, e.g. 16. */
  patchSize: number;
  /**
   * What happens to the `imageSize % patchSize` trailing pixel rows/columns.
   * `none`: there are none (patchSize divides imageSize). `dropped`: the
   * "valid" patch convolution ignores them, as SigLIP-SO400M/14@384 does with
   * 6 pixels (384 = 27·14 + 6). Declared explicitly so a typo in either size
   * cannot pass silently.
   */
  remainderPixels: "none" | "dropped";
  /** Hidden width D. */
  hidden: number;
  /** Number of transformer blocks. */
  layers: number;
  /** Attention heads; must divide `hidden`. */
  heads: number;
  /** MLP intermediate width. */
  mlp: number;
  /** MLP activation. */
  activation: Activation;
  /** LayerNorm epsilon. */
  layerNormEps: number;
  /** `last` = output of the final block; `penultimate` = hidden_states[-2] (MobileVLM). */
  featureLayer: FeatureLayer;
  /** Whether the post-LayerNorm is applied to the features handed to the projector. */
  postLayerNorm: boolean;
}

/** Idefics3/SmolVLM connector: NHWC space-to-depth by `scaleFactor`, then Linear(D·r² → H, no bias). */
export interface PixelShuffleLinearProjector {
  /** Projector kind. */
  kind: "pixel-shuffle-linear";
  /** Shuffle ratio r; must divide the patch grid side. */
  scaleFactor: number;
}

/** MobileVLM V1 lightweight downsample projector (MLP + two MobileNetV3 blocks, 4× fewer tokens). */
export interface LdpProjector {
  /** Projector kind. */
  kind: "ldp";
}

/** MobileVLM V2 projector (MLP + 2×2 average pool + depthwise PEG with residual, 4× fewer tokens). */
export interface LdpV2Projector {
  /** Projector kind. */
  kind: "ldpv2";
}

/** LLaVA-style MLP projector: `layers` Linear layers with an activation between them; keeps every token. */
export interface MlpProjector {
  /** Projector kind. */
  kind: "mlp";
  /** Number of Linear layers (≥ 1). */
  layers: number;
  /** Activation between Linear layers. */
  activation: Activation;
}

/** Any supported projector. */
export type ProjectorSpec =
  | PixelShuffleLinearProjector
  | LdpProjector
  | LdpV2Projector
  | MlpProjector;

/** Llama 3.1 style RoPE frequency scaling. */
export interface Llama3RopeScaling {
  /** Scaling type. */
  type: "llama3";
  /** Overall scaling factor. */
  factor: number;
  /** Low-frequency factor. */
  lowFreqFactor: number;
  /** High-frequency factor. */
  highFreqFactor: number;
  /** Context length the base model was trained on. */
  originalContextLength: number;
}

/** Llama-family decoder (RMSNorm, RoPE, grouped-query attention, SwiGLU). */
export interface DecoderSpec {
  /** Decoder family. */
  family: "llama";
  /** Hidden width H; must equal `heads · headDim`. */
  hidden: number;
  /** Number of decoder layers. */
  layers: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads; must divide `heads`. */
  kvHeads: number;
  /** Per-head width. */
  headDim: number;
  /** SwiGLU intermediate width. */
  intermediate: number;
  /** Vocabulary size (embedding rows). */
  vocab: number;
  /** RoPE base θ. */
  ropeTheta: number;
  /** Optional RoPE scaling; `null` for plain RoPE. */
  ropeScaling: Llama3RopeScaling | null;
  /** Maximum sequence length (max_position_embeddings). */
  contextLength: number;
  /** RMSNorm epsilon. */
  rmsEps: number;
  /** Whether the LM head shares the embedding matrix. */
  tiedEmbeddings: boolean;
}

/** Resampling filter used when resizing images. */
export type Resample = "lanczos" | "bicubic" | "bilinear";

/** Image preprocessing and splitting. */
export interface ImageSpec {
  /** Stage-1 resize target for the longest edge (size.longest_edge). */
  longestEdge: number;
  /** Tile side T (max_image_size.longest_edge); must equal the encoder's `imageSize`. */
  tileSize: number;
  /** Whether large images are split into T×T tiles plus one global image. */
  splitting: boolean;
  /** Upper bound on tiles per image (grid + global) the model accepts. */
  maxTiles: number;
  /** Resampling filter. */
  resample: Resample;
  /** Multiplier applied to uint8 pixels before normalisation (1/255). */
  rescaleFactor: number;
  /** Per-channel normalisation mean (RGB). */
  mean: [number, number, number];
  /** Per-channel normalisation std (RGB). */
  std: [number, number, number];
  /** Pad to a square with the mean colour before resizing (MobileVLM). */
  padToSquare: boolean;
}

/** Video sampling (SmolVLM2). Each frame is one unsplit tile. */
export interface VideoSpec {
  /** Frames sampled per second of video. */
  fps: number;
  /** Maximum frames per video. */
  maxFrames: number;
  /** Frame side after resizing (frames are squared to this). */
  frameSize: number;
}

/** A special token: its text and its id, or `null` when the text is not an added token and is tokenized as plain text. */
export interface TokenRef {
  /** Token text as it appears in prompts. */
  text: string;
  /** Vocabulary id, or `null` for text that is tokenized normally. */
  id: number | null;
}

/** `<row_r_col_c>` tile markers. */
export interface RowColTokens {
  /** Id of `<row_1_col_1>`; ids are row-major (`firstId + (r-1)·maxCols + (c-1)`). `null` = plain text. */
  firstId: number | null;
  /** Largest row index that has a token. */
  maxRows: number;
  /** Largest column index that has a token. */
  maxCols: number;
}

/** Chat template families the accounting knows how to lay out. */
export type ChatTemplateId = "smolvlm" | "idefics3" | "mobilevlm-v1";

/** Special tokens and conversation format. */
export interface TokensSpec {
  /** The image placeholder; each occurrence receives one feature row. MobileVLM uses the sentinel id −200. */
  image: TokenRef;
  /** `<fake_token_around_image>`, or `null` for models without image boundary tokens. */
  fakeTokenAroundImage: TokenRef | null;
  /** `<global-img>`, or `null`. */
  globalImage: TokenRef | null;
  /** Tile markers, or `null` for models that never split. */
  rowCol: RowColTokens | null;
  /** End-of-turn token (`<end_of_utterance>`, `</s>`, ...). */
  endOfUtterance: TokenRef;
  /** Beginning-of-sequence token: written by the chat template (`<|im_start|>`, `<|begin_of_text|>`) or added by the tokenizer (`<s>` for MobileVLM); `null` if none. */
  bos: TokenRef | null;
  /** Ids that stop generation. */
  eosIds: number[];
  /** Padding id, or `null`. */
  padId: number | null;
  /** Conversation layout. */
  chatTemplate: ChatTemplateId;
}

/** ONNX weight formats, as file-name suffixes of the Hugging Face exports. */
export type Dtype = "fp32" | "fp16" | "int8" | "uint8" | "q8" | "q4" | "q4f16" | "bnb4";

/** Physical layout of a model folder. */
export type ArtifactLayout = "hf-idefics3" | "modular";

/** One ONNX module file: base path without dtype suffix or extension, and its dtype. */
export interface ModuleArtifact {
  /** Base path inside the model folder, e.g. `onnx/vision_encoder`. */
  file: string;
  /** Weight format; selects the file-name suffix. */
  dtype: Dtype;
}

/** Where the variant's files live and how they are named. */
export interface ArtifactsSpec {
  /** `hf-idefics3`: vision_encoder (encoder+connector), embed_tokens, decoder_model_merged. `modular`: encoder, projector, embed_tokens, decoder. */
  layout: ArtifactLayout;
  /** Module files keyed by module name (the names the layout requires). */
  modules: Record<string, ModuleArtifact>;
  /** Hugging Face Hub repository, or `null` for variants with no published export. */
  hubRepo: string | null;
}

/** Where the values came from and which ones are unverified. */
export interface Provenance {
  /** Source references (see `../shared/reference/variants.md`). */
  sources: string[];
  /** Dotted paths of values that are presumed rather than read from an official file. */
  unverified: string[];
}

/** A complete model variant. */
export interface VariantSpec {
  /** Variant name, lower-case kebab, e.g. `smolvlm-256m-instruct`. */
  name: string;
  /** One line describing the variant. */
  description: string;
  /** Vision encoder. */
  encoder: EncoderSpec;
  /** Projector (connector). */
  projector: ProjectorSpec;
  /** Language decoder. */
  decoder: DecoderSpec;
  /** Image preprocessing. */
  image: ImageSpec;
  /** Video sampling, or `null` for image-only variants. */
  video: VideoSpec | null;
  /** Special tokens and chat layout. */
  tokens: TokensSpec;
  /** Files and hub location. */
  artifacts: ArtifactsSpec;
  /** Sources and unverified values. */
  provenance: Provenance;
}
