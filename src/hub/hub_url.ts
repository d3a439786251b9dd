/**
 * The fetch-only way to read a Hub repo: its files are served at
 * `<endpoint>/<owner>/<name>/resolve/<revision>/<path>` (GET and HEAD), so an
 * `hf:` source can be opened as an HTTP model folder without the Hub client
 * or a cache, where there is no file system (edge bundles, browsers).
 *
 * @module
 */
import { platform } from "../platform/current.ts";
import { DEFAULT_REVISION, parseHfSource } from "./repo_id.ts";

/** The public Hub (what `HF_ENDPOINT` overrides). */
export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";

/**
 * The folder URL of `hf:owner/name[@revision]` on `endpoint` (default
 * `$HF_ENDPOINT`, else the public Hub), ending in `/`.
 */
export function hubResolveUrl(source: string, endpoint?: string): URL {
  const { repo, revision } = parseHfSource(source);
  const base = (endpoint ?? platform().env("HF_ENDPOINT") ?? DEFAULT_HUB_ENDPOINT)
    .replace(/\/+$/, "");
  return new URL(
    `${base}/${repo}/resolve/${encodeURIComponent(revision ?? DEFAULT_REVISION)}/`,
  );
}
