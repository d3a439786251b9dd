/**
 * The modular layout vlmkit emits for any family: separate `encoder`,
 * `projector`, `embed_tokens` and `decoder` files, described by the
 * `vlmkit.json` manifest, so any encoder/projector/decoder combination runs.
 *
 * @module
 */
import type { Plan } from "../spec/plan.ts";
import { decoderContract, embedContract, FLOATS, imageFeatures } from "./contracts.ts";
import type { ModuleContract, ModuleLayout } from "./types.ts";

/** The manifest file that marks a modular folder. */
export const MODULAR_MANIFEST_FILE = "vlmkit.json";

function contracts(plan: Plan, cacheType: string): Record<string, ModuleContract> {
  const T = plan.spec.image.tileSize;
  const features = {
    name: "features",
    types: [...FLOATS],
    dims: [null, plan.encoder.patchesPerTile, plan.encoder.featureDim],
  };
  return {
    encoder: {
      inputs: [{ name: "pixel_values", types: [...FLOATS], dims: [null, 3, T, T] }],
      outputs: [features],
    },
    projector: { inputs: [features], outputs: [imageFeatures(plan)] },
    embed_tokens: embedContract(plan),
    decoder: decoderContract(plan, cacheType),
  };
}

/** The modular layout (any family, any projector). */
export const modularLayout: ModuleLayout = {
  name: "modular",
  cliName: "modular",
  modules: ["encoder", "projector", "embed_tokens", "decoder"],
  files: {
    encoder: "onnx/encoder",
    projector: "onnx/projector",
    embed_tokens: "onnx/embed_tokens",
    decoder: "onnx/decoder",
  },
  roles: { vision: "encoder", projector: "projector", embed: "embed_tokens", decoder: "decoder" },
  requiredFiles: [MODULAR_MANIFEST_FILE, "tokenizer.json"],
  projectorKinds: null,
  contracts,
};
