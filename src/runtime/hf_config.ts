/**
 * Turns the Hugging Face files of a published export (config.json,
 * preprocessor_config.json, processor_config.json, generation_config.json and
 * the tokenizer) into a validated {@linkcode VariantSpec}, so a downloaded
 * model gets the same Plan, checks and token accounting as a preset. The
 * family's codec (`src/families/`) reads the files; validation issues are
 * reported in terms of the files' keys.
 *
 * @module
 */
import { SpecValidationError } from "../errors/spec_error.ts";
import { configIssuesError } from "../families/config_issues.ts";
import { hfConfigCodecFor } from "../families/registry.ts";
import type { HfFiles } from "../families/types.ts";
import type { Dtype, VariantSpec } from "../spec/types.ts";
import { validateSpec } from "../spec/validate.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";

export type { HfFiles };

/**
 * Builds the spec of a Hugging Face folder (Idefics3/SmolVLM). `dtypes` picks
 * the ONNX file per module; `name` labels the spec; `location` names the
 * folder in errors (default: `name`). A spec the files describe but that is
 * invalid throws a `model_invalid` error naming the files and keys to correct.
 */
export function specFromHfFiles(
  files: HfFiles,
  tokenizer: TextTokenizer,
  name: string,
  dtypes: Readonly<Record<string, Dtype>>,
  location: string = name,
): VariantSpec {
  const codec = hfConfigCodecFor(files.config);
  const result = validateSpec(codec.read(files, tokenizer, name, dtypes));
  if (result.valid) return result.spec;
  throw configIssuesError(
    result.issues,
    codec,
    files,
    location,
    new SpecValidationError(name, result.issues),
  );
}
