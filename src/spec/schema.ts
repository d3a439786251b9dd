/**
 * zod schema for {@linkcode VariantSpec}: shape and per-field ranges only.
 * Rules that relate several fields live in `rules.ts`, so each message can name
 * both the field and the fix.
 *
 * Objects are strict: an unknown key is an error, because a misspelt field
 * would otherwise be silently ignored and the value it meant to set lost.
 *
 * @module
 */
import { z } from "npm:zod@4.6.7";
import type { VariantSpec } from "./types.ts";

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const epsilon = z.number().positive().max(0.1);
const activation = z.enum(["gelu-tanh", "gelu", "quick-gelu"]);
const rgb = z.tuple([z.number(), z.number(), z.number()]);

const encoder = z.strictObject({
  family: z.enum(["siglip", "clip-vit"]),
  imageSize: positiveInt,
  patchSize: positiveInt,
  remainderPixels: z.enum(["none", "dropped"]),
  hidden: positiveInt,
  layers: positiveInt,
  heads: positiveInt,
  mlp: positiveInt,
  activation,
  layerNormEps: epsilon,
  featureLayer: z.enum(["last", "penultimate"]),
  postLayerNorm: z.boolean(),
});

const projector = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("pixel-shuffle-linear"), scaleFactor: positiveInt }),
  z.strictObject({ kind: z.literal("ldp") }),
  z.strictObject({ kind: z.literal("ldpv2") }),
  z.strictObject({ kind: z.literal("mlp"), layers: positiveInt, activation }),
]);

const ropeScaling = z.strictObject({
  type: z.literal("llama3"),
  factor: z.number().positive(),
  lowFreqFactor: z.number().positive(),
  highFreqFactor: z.number().positive(),
  originalContextLength: positiveInt,
});

const decoder = z.strictObject({
  family: z.literal("llama"),
  hidden: positiveInt,
  layers: positiveInt,
  heads: positiveInt,
  kvHeads: positiveInt,
  headDim: positiveInt,
  intermediate: positiveInt,
  vocab: positiveInt,
  ropeTheta: z.number().positive(),
  ropeScaling: ropeScaling.nullable(),
  contextLength: positiveInt,
  rmsEps: epsilon,
  tiedEmbeddings: z.boolean(),
});

const image = z.strictObject({
  longestEdge: positiveInt,
  tileSize: positiveInt,
  splitting: z.boolean(),
  maxTiles: positiveInt,
  resample: z.enum(["lanczos", "bicubic", "bilinear"]),
  rescaleFactor: z.number().positive(),
  mean: rgb,
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  padToSquare: z.boolean(),
});

const video = z.strictObject({
  fps: z.number().positive(),
  maxFrames: positiveInt,
  frameSize: positiveInt,
});

const tokenRef = z.strictObject({
  text: z.string().min(1),
  id: z.number().int().nullable(),
});

const tokens = z.strictObject({
  image: tokenRef,
  fakeTokenAroundImage: tokenRef.nullable(),
  globalImage: tokenRef.nullable(),
  rowCol: z.strictObject({
    firstId: nonNegativeInt.nullable(),
    maxRows: positiveInt,
    maxCols: positiveInt,
  }).nullable(),
  endOfUtterance: tokenRef,
  bos: tokenRef.nullable(),
  eosIds: z.array(nonNegativeInt).min(1),
  padId: nonNegativeInt.nullable(),
  chatTemplate: z.enum(["smolvlm", "idefics3", "mobilevlm-v1"]),
});

const dtype = z.enum(["fp32", "fp16", "int8", "uint8", "q8", "q4", "q4f16", "bnb4"]);

const artifacts = z.strictObject({
  layout: z.enum(["hf-idefics3", "modular"]),
  modules: z.record(
    z.string(),
    z.strictObject({
      file: z.string().min(1).regex(
        /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[\w./-]+$/,
        "must be a relative path inside the model folder (no '..', no leading '/')",
      ),
      dtype,
    }),
  ),
  hubRepo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "must look like 'owner/name'").nullable(),
});

/** The zod schema of a variant spec (shape and field ranges; see `rules.ts` for cross-field rules). */
export const variantSpecSchema: z.ZodType<VariantSpec> = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "must be lower-case kebab, e.g. 'smolvlm-256m'"),
  description: z.string(),
  encoder,
  projector,
  decoder,
  image,
  video: video.nullable(),
  tokens,
  artifacts,
  provenance: z.strictObject({
    sources: z.array(z.string()),
    unverified: z.array(z.string()),
  }),
});
