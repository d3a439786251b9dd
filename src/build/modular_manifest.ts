/**
 * `vlmkit.json`, the manifest of a modular model folder: the complete variant
 * spec (so the runtime resolves the same Plan) and how the weights were made.
 * Module files are the spec's `artifacts.modules`, named by dtype suffix.
 *
 * @module
 */
import type { VariantSpec } from "../spec/types.ts";

/** The `format` value of a modular manifest. */
export const MODULAR_MANIFEST = "vlmkit-modular";

/** How a synthesized folder was built. */
export interface BuildRecord {
  /** Weight seed. */
  seed: number;
  /** Matmul weight storage. */
  dtype: string;
  /** `full` or the reduced `test` scale. */
  scale: string;
}

/** Contents of `vlmkit.json`. */
export interface ModularManifest {
  /** Always {@linkcode MODULAR_MANIFEST}. */
  format: typeof MODULAR_MANIFEST;
  /** Manifest version (1). */
  version: 1;
  /** The variant the files implement. */
  spec: VariantSpec;
  /** Build record, or `null` for folders converted from trained weights. */
  build: BuildRecord | null;
}
