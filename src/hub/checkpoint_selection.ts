/**
 * Which files of a repo a checkpoint pull downloads (for `vlm convert
 * --from hf:…`): the config and tokenizer files, and the safetensors weights
 * in transformers' layout — one `model.safetensors`, or the shards that
 * `model.safetensors.index.json` names. Other weight files beside them
 * (ONNX exports, `.bin` copies, adapters) are skipped.
 *
 * @module
 */
import { CONFIG_FILES } from "./file_selection.ts";
import { HubError } from "./hub_error.ts";
import type { RepoFile } from "./listing.ts";

/** The shard index of a sharded checkpoint. */
export const CHECKPOINT_INDEX = "model.safetensors.index.json";
/** The weights of an unsharded checkpoint. */
export const CHECKPOINT_FILE = "model.safetensors";

/** Configs a conversion may read beside the weights (a CLIP repo has only some of them). */
const CHECKPOINT_CONFIGS = [...CONFIG_FILES, "chat_template.jinja"];

/** The shard files an index names (its `weight_map` values), in first-use order. */
function shardsOf(index: unknown): string[] {
  const map = (index as { weight_map?: unknown } | undefined)?.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new HubError("incomplete_repo", `${CHECKPOINT_INDEX} has no weight_map object`, {
      fix: "the repo's index is not a transformers shard index; download the checkpoint by hand",
    });
  }
  return [...new Set(Object.values(map).map(String))];
}

/**
 * The checkpoint files of a listing. `index` is the parsed shard index when
 * the listing has one (the caller fetches it first: the shards it names are
 * only known from its contents).
 */
export function selectCheckpointFiles(files: readonly RepoFile[], index?: unknown): RepoFile[] {
  const byPath = new Map(files.map((file) => [file.path, file]));
  if (!byPath.has("config.json")) {
    throw new HubError("incomplete_repo", "the repo has no config.json", {
      fix: "convert a transformers checkpoint repo (config.json beside model.safetensors)",
    });
  }
  const configs = CHECKPOINT_CONFIGS.flatMap((path) => byPath.get(path) ?? []);
  if (byPath.has(CHECKPOINT_INDEX)) {
    const shards = shardsOf(index);
    const missing = shards.filter((path) => !byPath.has(path));
    if (missing.length > 0) {
      throw new HubError(
        "incomplete_repo",
        `${CHECKPOINT_INDEX} names shards the repo does not have: ${missing.join(", ")}`,
        { fix: "pick a revision whose upload is complete (--from hf:owner/name@REVISION)" },
      );
    }
    return [...configs, byPath.get(CHECKPOINT_INDEX)!, ...shards.map((path) => byPath.get(path)!)];
  }
  const single = byPath.get(CHECKPOINT_FILE);
  if (!single) {
    throw new HubError(
      "incomplete_repo",
      `the repo has neither ${CHECKPOINT_FILE} nor ${CHECKPOINT_INDEX}`,
      {
        fix: "convert a repo with safetensors weights (a PyTorch .bin checkpoint must be " +
          "re-saved as safetensors first)",
      },
    );
  }
  return [...configs, single];
}
