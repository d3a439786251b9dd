/**
 * What a repo holds at a revision: the commit the revision points at
 * (`modelInfo`) and every file with its size and hash (`listFiles`), both
 * from `@huggingface/hub`. The listing is taken at the commit, not the branch,
 * so a push during the pull cannot mix two versions.
 *
 * @module
 */
import { type ListFileEntry, listFiles, modelInfo } from "./hub_library.ts";
import { checkRepoPath } from "./cache_layout.ts";
import { HubError, type RequestContext, toHubError } from "./hub_error.ts";
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

function invalid(repo: string, detail: string): HubError {
  return new HubError("listing_invalid", `the hub's listing of ${repo} is malformed: ${detail}`, {
    fix: "check --hub-url: it must point at a Hugging Face Hub compatible server",
  });
}

/** Checks one listing entry and keeps what the pull needs. */
export function repoFileFromEntry(repo: string, entry: ListFileEntry): RepoFile | undefined {
  if (typeof entry.path !== "string") throw invalid(repo, "an entry has no path");
  checkRepoPath(entry.path);
  if (entry.type !== "file") return undefined;
  if (!Number.isSafeInteger(entry.size) || entry.size < 0) {
    throw invalid(repo, `${entry.path} has size ${JSON.stringify(entry.size)}`);
  }
  const file: RepoFile = { path: entry.path, size: entry.size };
  if (entry.lfs) {
    if (!/^[0-9a-f]{64}$/.test(String(entry.lfs.oid))) {
      throw invalid(repo, `${entry.path} has LFS oid ${JSON.stringify(entry.lfs.oid)}`);
    }
    if (entry.lfs.size !== entry.size) {
      throw invalid(
        repo,
        `${entry.path} is ${entry.size} bytes but its LFS object ${entry.lfs.size}`,
      );
    }
    file.sha256 = entry.lfs.oid;
  } else if (typeof entry.oid === "string" && /^[0-9a-f]{40}$/.test(entry.oid)) {
    file.gitOid = entry.oid;
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
    fetch: timedFetch(access.signal, access),
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
    throw toHubError(error, context);
  }
}
