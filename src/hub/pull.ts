/**
 * `pullModel`: brings the files one variant of a Hub repo needs into the
 * cache and returns the folder `loadModel` opens.
 *
 * Order of events: resolve the revision to a commit and list it; record the
 * listing; for modular repos fetch `vlmkit.json` (it names the module files);
 * select the files of the requested dtypes; download each (resumable,
 * verified, atomic); finally point the revision at the commit. When the hub
 * cannot be reached, a complete earlier pull is used instead.
 *
 * @module
 */
import { HUB_URL } from "./hub_library.ts";
import type { DtypeChoice } from "../runtime/model_spec.ts";
import { defaultCacheDir, fileSize, readTextIfPresent, RepoCache } from "./cache_layout.ts";
import { contentKey } from "./content_hash.ts";
import { readEnv as env } from "./env.ts";
import { downloadToCache, resolveUrl } from "./download.ts";
import { CHECKPOINT_INDEX, selectCheckpointFiles } from "./checkpoint_selection.ts";
import { isModular, MANIFEST_FILE, selectFiles } from "./file_selection.ts";
import { HubError, type RequestContext } from "./hub_error.ts";
import { listSnapshot, type RepoFile, type RepoSnapshot } from "./listing.ts";
import { type ProgressCallback, ProgressTracker } from "./progress.ts";
import { checkRepoId, checkRevision, DEFAULT_REVISION, isCommitId } from "./repo_id.ts";
import { readSnapshotRecord, writeRef, writeSnapshotRecord } from "./snapshot_record.ts";

/** Options of {@linkcode pullModel}. */
export interface PullOptions {
  /** Branch, tag or commit id (default `main`). A commit id pins the files exactly. */
  revision?: string;
  /** Weight format for every module, or per module (default fp32, or the manifest's for modular repos). */
  dtype?: DtypeChoice;
  /** Hub or mirror base URL (default `$HF_ENDPOINT`, else `https://huggingface.co`). */
  hubUrl?: string;
  /** Cache folder (default `$HF_HOME/vlmkit`, else `~/.cache/vlmkit/hub`). */
  cacheDir?: string;
  /** Access token for private or gated repos (default `$HF_TOKEN`; `""` sends none). */
  token?: string;
  /** Use only the cache (default: `$HF_HUB_OFFLINE` is `1`/`true`). */
  offline?: boolean;
  /** Further attempts per file after a dropped connection or a transient error (default 3). */
  retries?: number;
  /** Until a hub request is answered, ms (default 30 000); then a `timeout` HubError. */
  connectTimeoutMs?: number;
  /** How long a download may stay silent, ms (default 60 000); then a `timeout` HubError. */
  idleTimeoutMs?: number;
  /** Cancels the pull; a partial file stays in the cache and the next pull resumes it. */
  signal?: AbortSignal;
  /** Receives progress; the total is known from the first event. */
  onProgress?: ProgressCallback;
  /**
   * What to pull: `onnx` (default), the files `loadModel` runs; or
   * `checkpoint`, a safetensors checkpoint and its configs for `vlm convert`.
   */
  kind?: PullKind;
}

/** What a pull fetches: an ONNX model folder or a safetensors checkpoint. */
export type PullKind = "onnx" | "checkpoint";

/** The small JSON file the selection depends on, fetched first: a modular manifest, a shard index. */
function descriptorOf(kind: PullKind, files: readonly RepoFile[]): string | undefined {
  if (kind === "checkpoint") {
    return files.some((f) => f.path === CHECKPOINT_INDEX) ? CHECKPOINT_INDEX : undefined;
  }
  return isModular(files) ? MANIFEST_FILE : undefined;
}

function select(
  kind: PullKind,
  files: readonly RepoFile[],
  dtype: DtypeChoice | undefined,
  descriptor: unknown,
): RepoFile[] {
  return kind === "checkpoint"
    ? selectCheckpointFiles(files, descriptor)
    : selectFiles(files, dtype, descriptor);
}

/** What {@linkcode pullModel} brought into the cache. */
export interface PullResult {
  /** The model folder, ready for `loadModel(path)`. */
  path: string;
  /** `owner/name`. */
  repo: string;
  /** The revision asked for. */
  revision: string;
  /** The commit it resolved to. */
  commit: string;
  /** The files of the variant, with their sizes. */
  files: { path: string; size: number }[];
  /** Their total size. */
  bytes: number;
  /** The files this call downloaded (the others were in the cache). */
  downloaded: string[];
  /** Whether the hub was not asked (offline, unreachable, or a cached commit id). */
  fromCache: boolean;
}

/** The files of the variant, when every one of them is complete in the cache. */
async function completeInCache(
  cache: RepoCache,
  snapshot: RepoSnapshot,
  dtype: DtypeChoice | undefined,
  kind: PullKind,
): Promise<RepoFile[] | undefined> {
  const at = (path: string) => cache.filePath(snapshot.commit, path);
  let descriptor: unknown;
  const descriptorPath = descriptorOf(kind, snapshot.files);
  if (descriptorPath) {
    try {
      descriptor = JSON.parse((await readTextIfPresent(at(descriptorPath))) ?? "");
    } catch {
      return undefined;
    }
  }
  const selected = select(kind, snapshot.files, dtype, descriptor);
  for (const file of selected) {
    if (await fileSize(at(file.path)) !== file.size) return undefined;
  }
  return selected;
}

/** A {@linkcode PullResult} for files already in the cache, reported as done. */
async function fromCache(
  cache: RepoCache,
  revision: string,
  dtype: DtypeChoice | undefined,
  kind: PullKind,
  onProgress: ProgressCallback | undefined,
): Promise<PullResult | undefined> {
  const snapshot = await readSnapshotRecord(cache, cache.repo, revision);
  const files = snapshot && await completeInCache(cache, snapshot, dtype, kind);
  if (!snapshot || !files) return undefined;
  const tracker = new ProgressTracker(files, onProgress);
  for (const file of files) tracker.finish(file.path);
  return result(cache, revision, snapshot.commit, files, [], true);
}

function result(
  cache: RepoCache,
  revision: string,
  commit: string,
  files: RepoFile[],
  downloaded: string[],
  cached: boolean,
): PullResult {
  return {
    path: cache.snapshotDir(commit),
    repo: cache.repo,
    revision,
    commit,
    files: files.map(({ path, size }) => ({ path, size })),
    bytes: files.reduce((sum, file) => sum + file.size, 0),
    downloaded,
    fromCache: cached,
  };
}

/** Whether a failed listing should fall back to the cache (hub down, not "no such repo"). */
function hubDown(error: unknown): boolean {
  return error instanceof HubError &&
    (error.reason === "unreachable" || error.reason === "timeout" ||
      (error.status !== undefined && error.status >= 500));
}

/**
 * Pulls the files `loadModel` needs for `repo` (`owner/name`) at the
 * requested revision and dtypes into the cache, and returns the folder.
 * Throws a {@linkcode HubError} (or the signal's reason when aborted).
 */
export async function pullModel(repo: string, options: PullOptions = {}): Promise<PullResult> {
  const { dtype, signal, onProgress } = options;
  const kind = options.kind ?? "onnx";
  signal?.throwIfAborted();
  checkRepoId(repo);
  const revision = checkRevision(options.revision ?? DEFAULT_REVISION);
  const cache = new RepoCache(options.cacheDir ?? defaultCacheDir(), repo);
  const hubUrl = options.hubUrl ?? env("HF_ENDPOINT") ?? HUB_URL;
  // An explicit "" opts out of $HF_TOKEN.
  const token = (options.token ?? env("HF_TOKEN")) || undefined;
  const timeouts = {
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
  };
  const offline = options.offline ?? /^(1|true|yes|on)$/i.test(env("HF_HUB_OFFLINE") ?? "");

  // A commit never changes, so a complete copy of it is current without asking the hub.
  if (offline || isCommitId(revision)) {
    const cached = await fromCache(cache, revision, dtype, kind, onProgress);
    if (cached) return cached;
    if (offline) {
      throw new HubError(
        "unreachable",
        `offline mode (HF_HUB_OFFLINE) and ${repo}@${revision} is not complete in ${cache.root}`,
        { fix: "pull it once with network access, or unset HF_HUB_OFFLINE" },
      );
    }
  }

  let snapshot: RepoSnapshot;
  try {
    snapshot = await listSnapshot(repo, revision, { hubUrl, token, signal, ...timeouts });
  } catch (error) {
    if (hubDown(error)) {
      const cached = await fromCache(cache, revision, dtype, kind, onProgress);
      if (cached) return cached;
    }
    throw error;
  }
  await writeSnapshotRecord(cache, snapshot);

  const context: RequestContext = { repo, revision, withToken: token !== undefined };
  const fetchFile = (file: RepoFile, onBytes: (bytes: number) => void) => {
    const key = contentKey(file, snapshot.commit);
    return downloadToCache({
      file,
      url: resolveUrl(hubUrl, repo, snapshot.commit, file.path),
      target: cache.filePath(snapshot.commit, file.path),
      part: cache.partPath(key),
      lock: cache.lockPath(key),
      token,
      signal,
      timeouts,
      retries: options.retries ?? 3,
      context: { ...context, path: file.path },
      onBytes,
    });
  };

  const downloaded: string[] = [];
  let descriptor: unknown;
  const descriptorPath = descriptorOf(kind, snapshot.files);
  if (descriptorPath) {
    // Small, and needed to know which weight files (and so which total) to pull.
    const file = snapshot.files.find((f) => f.path === descriptorPath)!;
    if (await fetchFile(file, () => {}) === "downloaded") downloaded.push(file.path);
    try {
      descriptor = JSON.parse(
        (await readTextIfPresent(cache.filePath(snapshot.commit, file.path))) ?? "",
      );
    } catch (error) {
      throw new HubError("incomplete_repo", `${descriptorPath} in ${repo} is not valid JSON`, {
        fix: kind === "checkpoint"
          ? "pick a revision whose upload is complete (hf:owner/name@REVISION)"
          : "re-create the folder with `vlm synth --layout modular` and upload it again",
        cause: error,
      });
    }
  }
  const files = select(kind, snapshot.files, dtype, descriptor);
  const tracker = new ProgressTracker(files, onProgress);
  for (const file of files) {
    const outcome = await fetchFile(file, (bytes) => tracker.advance(file.path, bytes));
    if (outcome === "downloaded") downloaded.push(file.path);
    tracker.finish(file.path);
  }
  await writeRef(cache, revision, snapshot.commit);
  return result(cache, revision, snapshot.commit, files, downloaded, false);
}
