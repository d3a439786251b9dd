/**
 * The variant spec of a checkpoint `vlm convert` reads without `--variant`:
 * a family with a checkpoint config codec (MobileVLM: its config.json plus the
 * `--encoder-from` CLIP folder's) reads it from the checkpoints' configs; any
 * other folder is described as a Hugging Face model folder (config,
 * preprocessor and tokenizer files).
 *
 * @module
 */
import { VlmError } from "../../src/errors/vlm_error.ts";
import { specFromCheckpointConfigs } from "../../src/build/checkpoint/checkpoint_config.ts";
import type { CheckpointConfig } from "../../src/families/types.ts";
import { describeModelFolder } from "../../src/runtime/model_spec.ts";
import { openModelFolder } from "../../src/runtime/model_folder.ts";
import type { VariantSpec } from "../../src/spec/types.ts";

type Json = Record<string, unknown>;

/** `path` parsed as a JSON object, `undefined` when absent; a typed error when unreadable. */
async function readJsonFile(path: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  } catch (cause) {
    throw new VlmError("model_invalid", `${path} is not valid JSON`, {
      fix: `restore ${path} from the checkpoint's published copy`,
      cause,
    });
  }
  throw new VlmError("model_invalid", `${path} is not a JSON object`, {
    fix: `restore ${path} from the checkpoint's published copy`,
  });
}

/** A checkpoint folder's config.json (required) and preprocessor_config.json (optional). */
async function readCheckpointConfig(folder: string, role: string): Promise<CheckpointConfig> {
  const config = await readJsonFile(`${folder}/config.json`);
  if (!config) {
    throw new VlmError("model_invalid", `${role} ${folder} has no config.json`, {
      fix: `point ${role} at the checkpoint folder that holds config.json, or pass --variant V`,
    });
  }
  const preprocessor = await readJsonFile(`${folder}/preprocessor_config.json`);
  return { folder, config, ...(preprocessor ? { preprocessor } : {}) };
}

/**
 * The spec of the checkpoint in `from`; `encoderFolder` is `--encoder-from`'s
 * folder when the vision tower comes from another checkpoint folder.
 */
export async function checkpointSpec(
  from: string,
  encoderFolder: string | undefined,
): Promise<VariantSpec> {
  const config = await readJsonFile(`${from}/config.json`);
  if (config) {
    const encoder = encoderFolder !== undefined && encoderFolder !== from
      ? await readCheckpointConfig(encoderFolder, "--encoder-from")
      : undefined;
    const spec = specFromCheckpointConfigs({
      main: { folder: from, config },
      ...(encoder ? { encoder } : {}),
    });
    if (spec) return spec;
  }
  // A checkpoint folder holds no ONNX files to detect a dtype from; the output's comes later.
  return (await describeModelFolder(openModelFolder(from), { dtype: "fp32" })).spec;
}
