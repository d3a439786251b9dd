/**
 * `hf:owner/name[@revision]` model sources: pulled into the cache, then
 * opened like any local folder.
 *
 * @module
 */
import { pullModel, type PullOptions } from "./pull.ts";
import { HF_SCHEME, parseHfSource } from "./repo_id.ts";

/** Whether `source` names a Hub repo (`hf:…`) rather than a folder or URL. */
export function isHfSource(source: string | URL): source is string {
  return typeof source === "string" && source.startsWith(HF_SCHEME);
}

/**
 * Pulls `hf:owner/name[@revision]` (the revision in the source wins over
 * `options.revision`) and returns the local folder for `loadModel`.
 * (Bundles replace this module with one that returns `undefined`: `loadModel`
 * then reads the repo over fetch.)
 */
export async function resolveHfSource(source: string, options: PullOptions = {}): Promise<string> {
  const { repo, revision } = parseHfSource(source);
  const pulled = await pullModel(repo, { ...options, revision: revision ?? options.revision });
  return pulled.path;
}
