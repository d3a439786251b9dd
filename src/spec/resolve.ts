/**
 * `resolve(spec)`: validate once, then derive the {@linkcode Plan}. Pure: no
 * I/O, same input → same plan.
 *
 * @module
 */
import { kvBytesPerToken, kvCacheDtype } from "../tokens/memory.ts";
import { countParams } from "../tokens/params.ts";
import {
  patchesPerTile,
  patchGridSide,
  projectorDownsample,
  tokensPerTile,
} from "../tokens/tile_tokens.ts";
import { maxGridSide, maxTilesPerImage } from "../tokens/tiles.ts";
import type { Plan, PlannedFile } from "./plan.ts";
import { layoutOf } from "../families/registry.ts";
import type { Dtype, VariantSpec } from "./types.ts";
import { parseSpec } from "./validate.ts";

/** File-name suffix of each dtype in the Hugging Face ONNX exports. */
export const DTYPE_SUFFIX: Readonly<Record<Dtype, string>> = {
  fp32: "",
  fp16: "_fp16",
  int8: "_int8",
  uint8: "_uint8",
  q8: "_quantized",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
};

/**
 * Validates `input` (throws `SpecValidationError` with every issue) and derives
 * shapes, token counts per tile, worst cases, parameters, KV bytes and files.
 */
export function resolve(input: VariantSpec | unknown): Plan {
  const spec = parseSpec(input);
  const { encoder, projector, decoder, image, artifacts } = spec;
  const downsample = projectorDownsample(projector);
  const perTile = tokensPerTile(encoder, projector);
  const maxTiles = maxTilesPerImage(image);
  const layout = layoutOf(spec);
  // The decoder's dtype decides the KV-cache element type.
  const cacheDtype = kvCacheDtype(artifacts.modules[layout.roles.decoder].dtype);
  const files: PlannedFile[] = layout.modules.map((module) => {
    const { file, dtype } = artifacts.modules[module];
    return { module, path: `${file}${DTYPE_SUFFIX[dtype]}.onnx`, dtype };
  });
  return {
    spec,
    encoder: {
      patchGridSide: patchGridSide(encoder),
      patchesPerTile: patchesPerTile(encoder),
      sequenceLength: patchesPerTile(encoder) + (encoder.family === "clip-vit" ? 1 : 0),
      featureDim: encoder.hidden,
    },
    projector: {
      kind: projector.kind,
      downsample,
      inputDim: projector.kind === "pixel-shuffle-linear"
        ? encoder.hidden * downsample * downsample
        : encoder.hidden,
      outputDim: decoder.hidden,
    },
    tokensPerTile: perTile,
    maxGridSide: maxTiles > 1 ? maxGridSide(image) : 0,
    maxTilesPerImage: maxTiles,
    maxImageTokensPerImage: maxTiles * perTile,
    decoder: {
      contextLength: decoder.contextLength,
      kvCacheDtype: cacheDtype,
      kvBytesPerToken: kvBytesPerToken(decoder, cacheDtype),
    },
    params: countParams(spec),
    files,
  };
}
