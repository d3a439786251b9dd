/**
 * Where pulled files live, and the rule that keeps them there.
 *
 * ```text
 * <cache>/<owner>--<name>/
 *   snapshots/<commit>/…      the model folder (what loadModel opens)
 *   manifests/<commit>.json   the listing at that commit (sizes, hashes)
 *   refs/<revision>           commit of the last complete pull of a branch or tag
 *   partial/<key>.part        interrupted downloads, resumed by the next pull
 *   locks/<key>.lock          one writer per file across pulls and processes
 * ```
 *
 * Paths come from the hub's listing, i.e. from whoever controls the repo or
 * the mirror, so every one is checked before it is joined onto the cache.
 *
 * @module
 */
import { join, resolve, sep } from "node:path";
import { VlmError } from "../errors/vlm_error.ts";
import { platform } from "../platform/current.ts";
import { readEnv as env } from "./env.ts";
import { HubError } from "./hub_error.ts";

/**
 * The default cache: `$HF_HOME/vlmkit`, else `$XDG_CACHE_HOME/vlmkit/hub`,
 * else `~/.cache/vlmkit/hub`.
 */
export function defaultCacheDir(): string {
  const hfHome = env("HF_HOME");
  if (hfHome) return join(hfHome, "vlmkit");
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "vlmkit", "hub");
  const home = env("HOME") ?? env("USERPROFILE");
  if (!home) {
    throw new VlmError(
      "input_invalid",
      "cannot pick a cache folder: neither HF_HOME nor HOME is set",
      {
        fix: "pass cacheDir (--cache DIR) or set HF_HOME",
      },
    );
  }
  return join(home, ".cache", "vlmkit", "hub");
}

// Control characters, and backslashes (separators on Windows).
// deno-lint-ignore no-control-regex
const UNSAFE_CHAR = /[\x00-\x1f\x7f\\]/;

// Belt and braces for the segment rules below: the joined path stays inside.
function insideAfterJoin(path: string): boolean {
  const base = resolve("/vlmkit-base");
  return resolve(base, path).startsWith(base + sep);
}

/**
 * Refuses a repo path that could escape the folder it is joined onto:
 * absolute paths, drive letters, backslashes, `.`/`..`/empty segments,
 * control characters and lone surrogates (which `encodeURIComponent` rejects).
 */
export function checkRepoPath(path: string): string {
  if (typeof path !== "string") {
    throw new HubError("listing_invalid", `the listing names a path that is a ${typeof path}`, {
      fix: "check --hub-url: it must point at a Hugging Face Hub compatible server",
    });
  }
  const segments = path.split("/");
  // A lone surrogate has no UTF-8 form: no file system or URL can hold it.
  const unsafe = !path.isWellFormed() || !insideAfterJoin(path) || path.length === 0 ||
    path.length > 1024 ||
    UNSAFE_CHAR.test(path) || /^[A-Za-z]:/.test(path) ||
    segments.some((segment) => segment === "" || segment === "." || segment === "..");
  if (unsafe) {
    throw new HubError(
      "unsafe_path",
      `the listing names ${JSON.stringify(path)}, which would be written outside the model folder`,
      { fix: "do not pull from this repo or mirror; report it to its owner" },
    );
  }
  return path;
}

/** The folders of one repo in the cache. */
export class RepoCache {
  /** The repo's folder. */
  readonly root: string;

  /** The layout of `repo` (`owner/name`, already checked) under `cacheDir`. */
  constructor(readonly cacheDir: string, readonly repo: string) {
    this.root = join(resolve(cacheDir), repo.replace("/", "--"));
  }

  /** The model folder of `commit`. */
  snapshotDir(commit: string): string {
    return join(this.root, "snapshots", commit);
  }

  /** Where `path` of `commit` is stored (checked with {@linkcode checkRepoPath}). */
  filePath(commit: string, path: string): string {
    const base = this.snapshotDir(commit);
    return resolve(base, checkRepoPath(path));
  }

  /** The listing recorded for `commit`. */
  manifestPath(commit: string): string {
    return join(this.root, "manifests", `${commit}.json`);
  }

  /** The file that maps `revision` to the commit of its last complete pull. */
  refPath(revision: string): string {
    return join(this.root, "refs", encodeURIComponent(revision));
  }

  /** The partial download of the content identified by `key` (a hash). */
  partPath(key: string): string {
    return join(this.root, "partial", `${key}.part`);
  }

  /** The lock file that serializes writers of `key`. */
  lockPath(key: string): string {
    return join(this.root, "locks", `${key}.lock`);
  }
}

/** Reads a text file, or `undefined` when it does not exist. */
export async function readTextIfPresent(path: string): Promise<string | undefined> {
  const bytes = await platform().readFile(path);
  return bytes && new TextDecoder().decode(bytes);
}

/** The size of a regular file, or `undefined` when there is none. */
export async function fileSize(path: string): Promise<number | undefined> {
  const info = await platform().stat(path);
  return info?.isFile ? info.size : undefined;
}
