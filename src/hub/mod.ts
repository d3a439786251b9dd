/**
 * Pulling models from the Hugging Face Hub (or a mirror) into a local cache:
 * only the files of the requested dtypes, resumable, hash-checked, atomic,
 * and usable offline once complete.
 *
 * ```ts ignore
 * import { pullModel } from "./mod.ts";
 *
 * const pulled = await pullModel("HuggingFaceTB/SmolVLM-256M-Instruct", { dtype: "q4" });
 * console.log(pulled.path); // pass to loadModel
 * ```
 *
 * @module
 */
export { type PullKind, pullModel, type PullOptions, type PullResult } from "./pull.ts";
export { isHfSource, resolveHfSource } from "./hf_source.ts";
export { type HfSource, parseHfSource } from "./repo_id.ts";
export { HubError, type HubErrorReason } from "./hub_error.ts";
export type { ProgressCallback, PullProgress } from "./progress.ts";
export { CONFIG_FILES, selectFiles } from "./file_selection.ts";
export type { RepoFile } from "./listing.ts";
export { defaultCacheDir } from "./cache_layout.ts";
