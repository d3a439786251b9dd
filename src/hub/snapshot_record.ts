/**
 * What the cache knows without the hub: per commit, the listing it was pulled
 * from (`manifests/<commit>.json`), and per branch or tag, the commit of its
 * last complete pull (`refs/<revision>`). With both, "is this pull complete?"
 * is a matter of file sizes: a file only gets its final name once verified.
 *
 * @module
 */
import { writeFileAtomically } from "../platform/atomic_write.ts";
import { readTextIfPresent, type RepoCache } from "./cache_layout.ts";
import { isCommitId } from "./repo_id.ts";
import { type RepoFile, repoFileFromEntry, type RepoSnapshot } from "./listing.ts";

const FORMAT = "vlmkit-hub-snapshot";

/** Contents of `manifests/<commit>.json`. */
interface SnapshotRecord {
  format: typeof FORMAT;
  version: 1;
  repo: string;
  commit: string;
  files: RepoFile[];
}

/** Records the listing of `snapshot` (idempotent: concurrent pulls write the same bytes). */
export async function writeSnapshotRecord(cache: RepoCache, snapshot: RepoSnapshot): Promise<void> {
  const record: SnapshotRecord = {
    format: FORMAT,
    version: 1,
    repo: snapshot.repo,
    commit: snapshot.commit,
    files: snapshot.files,
  };
  await writeFileAtomically(cache.manifestPath(snapshot.commit), JSON.stringify(record, null, 1));
}

/** Notes that `revision` resolved to `commit` in a complete pull. */
export async function writeRef(cache: RepoCache, revision: string, commit: string): Promise<void> {
  if (revision !== commit) await writeFileAtomically(cache.refPath(revision), commit);
}

/**
 * The recorded snapshot `revision` points at (a commit id, or a branch/tag
 * pulled completely before), or `undefined` when the cache has none.
 */
export async function readSnapshotRecord(
  cache: RepoCache,
  repo: string,
  revision: string,
): Promise<RepoSnapshot | undefined> {
  const commit = isCommitId(revision)
    ? revision
    : (await readTextIfPresent(cache.refPath(revision)))?.trim();
  if (!commit || !isCommitId(commit)) return undefined;
  const text = await readTextIfPresent(cache.manifestPath(commit));
  if (text === undefined) return undefined;
  let record: Partial<SnapshotRecord>;
  try {
    record = JSON.parse(text);
  } catch {
    return undefined; // an unreadable record is the same as none: the hub has the truth
  }
  if (
    typeof record !== "object" || record === null || record.format !== FORMAT ||
    record.commit !== commit || !Array.isArray(record.files) ||
    !record.files.every((file) => typeof file === "object" && file !== null)
  ) {
    return undefined;
  }
  // Checked again like a fresh listing: the cache folder may have been edited.
  const files = record.files.map((file) =>
    repoFileFromEntry(repo, {
      type: "file",
      path: file.path,
      size: file.size,
      oid: file.gitOid,
      lfs: file.sha256 !== undefined
        ? { oid: file.sha256, size: file.size, pointerSize: 0 }
        : undefined,
    })!
  );
  return { repo, commit, files };
}
