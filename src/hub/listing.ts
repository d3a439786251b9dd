/**
 * What a repo holds at a revision: the commit the revision points at
 * (`modelInfo`) and every file with its size and hash (`listFiles`), both
 * from `@huggingface/hub`. The listing is taken at the commit, not the branch,
 * so a push during the pull cannot mix two versions.
 *
 * @module
 */
import { HubApiError, type ListFileEntry, listFiles, modelInfo } from "./hub_library.ts";
import { checkRepoPath } from "./cache_layout.ts";
import { VlmError } from "../errors/vlm_error.ts";
import { HubError, isNetworkError, type RequestContext, toHubError } from "./hub_error.ts";
import { type HubTimeouts, timedFetch } from "./timed_fetch.ts";

/** One file of a repo. */
export interface RepoFile {
  /** Path in the repo (`/`-separated, checked to stay inside a folder). */
  path: string;
  /** Size in bytes. */
  size: number;
  /** SHA-256 of the contents, for files stored with Git LFS. */
  sha256?: string;
  /** Git blob id (SHA-1 of `blob <size>\0<contents>`), for files stored in git. */
  gitOid?: string;
}

/** A repo's files at one commit. */
export interface RepoSnapshot {
  /** `owner/name`. */
  repo: string;
  /** The 40-character commit id. */
  commit: string;
  /** Every file (directories omitted). */
  files: RepoFile[];
}

/** Where and how to reach the hub. */
export interface HubAccess extends HubTimeouts {
  /** Base URL of the hub or mirror (`https://huggingface.co` by default). */
  hubUrl?: string;
  /** Access token, sent as `Authorization: Bearer`. */
  token?: string;
  /** Cancels the requests. */
  signal?: AbortSignal;
}

/** A failure to connect or to read an answer, kept apart from failures to understand it. */
class NetworkFailure extends Error {
  constructor(override readonly cause: unknown) {
    super("network failure", { cause });
  }
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` that carries the caller's AbortSignal and time limits into every
 * request the library makes and reads each answer in full: a dropped
 * connection is then a `NetworkFailure` (the hub is unreachable), a silent one
 * a timeout, while whatever the library throws later comes from the answer's
 * content (the listing is malformed).
 */
export function fetchWithSignal(
  signal: AbortSignal | undefined,
  limits: HubTimeouts = {},
): typeof fetch {
  const timed = timedFetch(signal, limits);
  return async (input, init) => {
    let response: Response;
    let body: ArrayBuffer;
    try {
      response = await timed(input, init);
      body = await response.arrayBuffer();
    } catch (error) {
      throw isNetworkError(error) ? new NetworkFailure(error) : error;
    }
    return new Response(NULL_BODY_STATUS.has(response.status) ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/**
 * What a failed listing means: unreachable (network), an HTTP status, a bad
 * token, an abort, or else an answer that is not a Hub listing (invalid JSON,
 * wrong shapes), which must not pass for "the hub is down".
 */
function listingFailure(error: unknown, repo: string, context: RequestContext): unknown {
  if (error instanceof NetworkFailure) return toHubError(error.cause, context);
  if (
    error instanceof VlmError || error instanceof HubApiError ||
    (error instanceof DOMException && error.name === "AbortError") ||
    (error instanceof TypeError && /access token/i.test(error.message))
  ) {
    return toHubError(error, context);
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error);
  return invalid(repo, `its answer cannot be read (${detail.slice(0, 200)})`);
}

function invalid(repo: string, detail: string): HubError {
  return new HubError("listing_invalid", `the hub's listing of ${repo} is malformed: ${detail}`, {
    fix: "check --hub-url: it must point at a Hugging Face Hub compatible server",
  });
}

/** A listing value for a message: short, and never run (no `toString`, no deep `JSON.stringify`). */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 80));
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  if (value === undefined) return "nothing";
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

/** Checks one listing entry (untrusted JSON) and keeps what the pull needs. */
export function repoFileFromEntry(repo: string, entry: unknown): RepoFile | undefined {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw invalid(repo, `an entry is ${describeValue(entry)}, not an object`);
  }
  const { path, type, size, lfs, oid } = entry as Partial<Record<keyof ListFileEntry, unknown>>;
  if (typeof path !== "string") throw invalid(repo, "an entry has no path");
  checkRepoPath(path);
  if (type !== "file") return undefined;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(repo, `${path} has size ${describeValue(size)}`);
  }
  const file: RepoFile = { path, size };
  if (lfs !== undefined && lfs !== null) {
    if (typeof lfs !== "object" || Array.isArray(lfs)) {
      throw invalid(repo, `${path} has LFS details ${describeValue(lfs)}`);
    }
    const { oid: lfsOid, size: lfsSize } = lfs as Record<string, unknown>;
    if (typeof lfsOid !== "string" || !/^[0-9a-f]{64}$/.test(lfsOid)) {
      throw invalid(repo, `${path} has LFS oid ${describeValue(lfsOid)}`);
    }
    if (lfsSize !== size) {
      throw invalid(repo, `${path} is ${size} bytes but its LFS object ${describeValue(lfsSize)}`);
    }
    file.sha256 = lfsOid;
  } else if (typeof oid === "string" && /^[0-9a-f]{40}$/.test(oid)) {
    file.gitOid = oid;
  }
  return file;
}

/** Resolves `revision` to a commit and lists the repo's files there. */
export async function listSnapshot(
  repo: string,
  revision: string,
  access: HubAccess,
): Promise<RepoSnapshot> {
  const context: RequestContext = { repo, revision, withToken: access.token !== undefined };
  const common = {
    hubUrl: access.hubUrl,
    accessToken: access.token,
    fetch: fetchWithSignal(access.signal, access),
  };
  try {
    const info = await modelInfo({ ...common, name: repo, revision, additionalFields: ["sha"] });
    const commit = (info as { sha?: unknown }).sha;
    if (typeof commit !== "string" || !/^[0-9a-f]{40}$/.test(commit)) {
      throw invalid(repo, `revision ${revision} resolved to commit ${JSON.stringify(commit)}`);
    }
    const files: RepoFile[] = [];
    const seen = new Set<string>();
    for await (
      const entry of listFiles({ ...common, repo, revision: commit, recursive: true })
    ) {
      const file = repoFileFromEntry(repo, entry);
      if (!file) continue;
      if (seen.has(file.path)) throw invalid(repo, `${file.path} is listed twice`);
      seen.add(file.path);
      files.push(file);
    }
    return { repo, commit, files };
  } catch (error) {
    throw listingFailure(error, repo, context);
  }
}
