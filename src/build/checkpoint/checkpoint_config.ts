/**
 * A variant spec read from training checkpoints' configs by the family that
 * claims them (e.g. MobileVLM's config.json plus its CLIP tower's), so
 * `vlm convert` needs no `--variant` for them.
 *
 * @module
 */
import { checkpointConfigCodecFor } from "../../families/registry.ts";
import type { CheckpointConfigs } from "../../families/types.ts";
import type { VariantSpec } from "../../spec/types.ts";
import { validateSpec } from "../../spec/validate.ts";

/**
 * The validated spec `configs` describe, or `undefined` when no family has a
 * checkpoint config codec for `configs.main.config` (read it as a Hugging Face
 * model folder instead). Throws the family's `VlmError` naming the config keys
 * behind each problem.
 */
export function specFromCheckpointConfigs(configs: CheckpointConfigs): VariantSpec | undefined {
  const codec = checkpointConfigCodecFor(configs.main.config);
  if (!codec) return undefined;
  const result = validateSpec(codec.read(configs));
  if (result.valid) return result.spec;
  throw codec.explain(result.issues, configs);
}
