/**
 * Checking downloaded bytes against the listing: LFS files by their SHA-256
 * (the LFS oid), files kept in git by their blob id (SHA-1 of
 * `blob <size>\0<contents>`). Hashing is incremental so a download is hashed
 * while it streams, and a resumed one only re-reads the part already on disk.
 *
 * @module
 */
import { platform } from "../platform/current.ts";
import type { IncrementalHash } from "../platform/types.ts";
import type { RepoFile } from "./listing.ts";

/** An incremental hash of one file's contents. */
export interface ContentHash {
  /** Adds the next bytes. */
  update(bytes: Uint8Array): void;
  /** Whether the bytes so far match the listing (`true` when the listing gives no hash). */
  matches(): boolean;
  /** The hash the listing expects, for messages (`undefined` when none). */
  readonly expected: string | undefined;
}

/** A hasher for `file`'s contents as the listing describes them. */
export function contentHash(file: RepoFile): ContentHash {
  let hash: IncrementalHash | undefined;
  let expected: string | undefined;
  if (file.sha256) {
    hash = platform().createHash("sha256");
    expected = file.sha256;
  } else if (file.gitOid) {
    hash = platform().createHash("sha1").update(new TextEncoder().encode(`blob ${file.size}\0`));
    expected = file.gitOid;
  }
  return {
    expected,
    update(bytes) {
      hash?.update(bytes);
    },
    matches() {
      return hash === undefined || hash.digest() === expected;
    },
  };
}

/** A name for the contents of `file` that is the same wherever and whenever it is listed. */
export function contentKey(file: RepoFile, commit: string): string {
  if (file.sha256) return file.sha256;
  if (file.gitOid) return file.gitOid;
  // Without a hash, only this commit's copy of this path is known to be these bytes.
  return platform().createHash("sha256").update(new TextEncoder().encode(`${commit}/${file.path}`))
    .digest();
}
