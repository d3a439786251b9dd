/**
 * The SmolVLM paper's encoder × decoder × pixel-shuffle design grid:
 * SmolLM2 135M/360M/1.7B × SigLIP-B/16@512 / SigLIP-SO400M/14@384 × r ∈ {2, 3, 4}.
 * Context is 8k for 135M/360M and 16k (RoPE θ 273768) for 1.7B, as the paper
 * settled on. Pairs whose r does not divide the patch grid are reported as
 * invalid with the validator's reason instead of being dropped silently.
 *
 * All members use the SmolVLM-256M tokenizer layout (vocab 49280, row/col
 * markers as added tokens), so token accounting is comparable across the grid.
 *
 * @module
 */
import { validateSpec } from "../src/spec/validate.ts";
import type { DecoderSpec, EncoderSpec, ImageSpec, VariantSpec } from "../src/spec/types.ts";

interface GridEncoder {
  id: string;
  encoder: EncoderSpec;
  image: Pick<ImageSpec, "longestEdge" | "tileSize">;
}

const SIGLIP_B16_512: GridEncoder = {
  id: "siglip-b16-512",
  encoder: {
    family: "siglip",
    imageSize: 512,
    patchSize: 16,
    remainderPixels: "none",
    hidden: 768,
    layers: 12,
    heads: 12,
    mlp: 3072,
    activation: "gelu-tanh",
    layerNormEps: 1e-6,
    featureLayer: "last",
    postLayerNorm: true,
  },
  image: { longestEdge: 2048, tileSize: 512 },
};

const SIGLIP_SO400M_384: GridEncoder = {
  id: "siglip-so400m14-384",
  encoder: {
    family: "siglip",
    imageSize: 384,
    patchSize: 14,
    remainderPixels: "dropped",
    hidden: 1152,
    layers: 27,
    heads: 16,
    mlp: 4304,
    activation: "gelu-tanh",
    layerNormEps: 1e-6,
    featureLayer: "last",
    postLayerNorm: true,
  },
  image: { longestEdge: 1536, tileSize: 384 },
};

function smolLm2(
  hidden: number,
  layers: number,
  heads: number,
  kvHeads: number,
  intermediate: number,
  long: boolean,
): DecoderSpec {
  return {
    family: "llama",
    hidden,
    layers,
    heads,
    kvHeads,
    headDim: 64,
    intermediate,
    vocab: 49280,
    ropeTheta: long ? 273768 : 100000,
    ropeScaling: null,
    contextLength: long ? 16384 : 8192,
    rmsEps: 1e-5,
    tiedEmbeddings: false,
  };
}

const DECODERS: readonly { id: string; decoder: DecoderSpec }[] = [
  { id: "135m", decoder: smolLm2(576, 30, 9, 3, 1536, false) },
  { id: "360m", decoder: smolLm2(960, 32, 15, 5, 2560, false) },
  { id: "1.7b", decoder: smolLm2(2048, 24, 32, 32, 8192, true) },
];

/** Shuffle ratios the grid explores. */
export const GRID_SCALE_FACTORS: readonly number[] = [2, 3, 4];

function gridSpec(lm: (typeof DECODERS)[number], vision: GridEncoder, r: number): VariantSpec {
  return {
    name: `smolvlm-grid-${lm.id}-${vision.id}-r${r}`,
    description:
      `SmolVLM design grid: SmolLM2-${lm.id.toUpperCase()} + ${vision.id}, pixel shuffle r=${r}.`,
    encoder: vision.encoder,
    projector: { kind: "pixel-shuffle-linear", scaleFactor: r },
    decoder: lm.decoder,
    image: {
      ...vision.image,
      splitting: true,
      maxTiles: 17,
      resample: "lanczos",
      rescaleFactor: 1 / 255,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      padToSquare: false,
    },
    video: null,
    tokens: {
      image: { text: "<image>", id: 49190 },
      fakeTokenAroundImage: { text: "<fake_token_around_image>", id: 49189 },
      globalImage: { text: "<global-img>", id: 49152 },
      rowCol: { firstId: 49153, maxRows: 6, maxCols: 6 },
      endOfUtterance: { text: "<end_of_utterance>", id: 49279 },
      bos: { text: "<|im_start|>", id: 1 },
      eosIds: [49279],
      padId: 2,
      chatTemplate: "smolvlm",
    },
    artifacts: {
      layout: "hf-idefics3",
      modules: {
        vision_encoder: { file: "onnx/vision_encoder", dtype: "fp32" },
        embed_tokens: { file: "onnx/embed_tokens", dtype: "fp32" },
        decoder_model_merged: { file: "onnx/decoder_model_merged", dtype: "fp32" },
      },
      hubRepo: null,
    },
    provenance: {
      sources: ["reference/variants.md §9 design grid [sec]", "§2 encoders", "§4 decoders"],
      unverified: [],
    },
  };
}

/** A grid point that cannot exist, with the reason. */
export interface InvalidGridPoint {
  /** The name it would have had. */
  name: string;
  /** Why it is invalid (the validator's message and fix). */
  reason: string;
}

/** The grid: valid variants and invalid pairs with reasons. */
export interface DesignGrid {
  /** Specs that pass validation. */
  valid: VariantSpec[];
  /** Combinations that do not, with the reason. */
  invalid: InvalidGridPoint[];
}

/** Generates the SmolVLM paper design grid (18 points: 9 valid, 9 invalid). */
export function smolvlmPaperGrid(): DesignGrid {
  const grid: DesignGrid = { valid: [], invalid: [] };
  for (const lm of DECODERS) {
    for (const vision of [SIGLIP_B16_512, SIGLIP_SO400M_384]) {
      for (const r of GRID_SCALE_FACTORS) {
        const spec = gridSpec(lm, vision, r);
        const result = validateSpec(spec);
        if (result.valid) {
          grid.valid.push(result.spec);
        } else {
          const reason = result.issues.map((issue) =>
            `${issue.path}: ${issue.message}${issue.fix ? ` (${issue.fix})` : ""}`
          ).join("; ");
          grid.invalid.push({ name: spec.name, reason });
        }
      }
    }
  }
  return grid;
}
