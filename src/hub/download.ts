/**
 * Downloads one file of a snapshot into the cache:
 *
 * - bytes go to `partial/<hash>.part`, which survives failures and aborts; the
 *   next attempt (or the next pull) continues it with an HTTP `Range` request;
 * - the contents are hashed while they stream and checked against the
 *   listing; a mismatch deletes the part and leaves no file behind;
 * - only a verified file is renamed to its final name, so a file in a
 *   snapshot folder is always complete;
 * - an exclusive lock per file lets concurrent pulls (threads or processes)
 *   share the cache: the second waits, then finds the file done.
 *
 * `@huggingface/hub`'s `downloadFile` is not used for the bytes: its blob
 * hides the response status (a `Range` the server ignored would corrupt the
 * part) and takes no AbortSignal. The route is the same `resolve` URL.
 *
 * @module
 */
import { dirname } from "node:path";
import { abortable } from "../platform/abortable.ts";
import { platform } from "../platform/current.ts";
import type { PlatformFile } from "../platform/types.ts";
import { fileSize } from "./cache_layout.ts";
import { contentHash } from "./content_hash.ts";
import {
  errorForStatus,
  HubError,
  isNetworkError,
  type RequestContext,
  toHubError,
} from "./hub_error.ts";
import type { RepoFile } from "./listing.ts";
import { type HubTimeouts, timedFetch } from "./timed_fetch.ts";

/** One file to bring into the cache. */
export interface DownloadJob {
  /** The file as listed. */
  file: RepoFile;
  /** Its `resolve` URL. */
  url: string;
  /** Final path in the snapshot folder. */
  target: string;
  /** Partial download path. */
  part: string;
  /** Lock file path. */
  lock: string;
  /** Access token for the `Authorization` header. */
  token?: string;
  /** Cancels the download (the part file stays for a later resume). */
  signal?: AbortSignal;
  /** Time limits of the request. */
  timeouts?: HubTimeouts;
  /** Further attempts after a dropped connection or a transient HTTP error. */
  retries: number;
  /** For messages. */
  context: RequestContext;
  /** Called with the bytes of the file on disk, as they grow. */
  onBytes(fileBytes: number): void;
}

/** How a file got into the cache. */
export type DownloadOutcome = "cached" | "downloaded";

/** Statuses worth another attempt. */
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504]);
const READ_CHUNK = 1 << 20;

/** The `resolve` route of `path` at `commit` (the URL `@huggingface/hub` builds for models). */
export function resolveUrl(hubUrl: string, repo: string, commit: string, path: string): string {
  const encodedPath = path.split("/").map(encodeURIComponent).join("/");
  return `${hubUrl.replace(/\/+$/, "")}/${repo}/resolve/${
    encodeURIComponent(commit)
  }/${encodedPath}`;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return abortable(new Promise((resolve) => setTimeout(resolve, ms)), signal);
}

/** Takes the exclusive lock at `path`; resolves to its release. */
async function lock(path: string, signal: AbortSignal | undefined): Promise<() => Promise<void>> {
  await platform().mkdir(dirname(path));
  return await platform().lock(path, signal);
}

/** Feeds the first `length` bytes of `file` to `update`. */
async function readPrefix(file: PlatformFile, length: number, update: (b: Uint8Array) => void) {
  const buffer = new Uint8Array(READ_CHUNK);
  for (let position = 0; position < length;) {
    const read = await file.read(
      buffer.subarray(0, Math.min(length - position, buffer.length)),
      position,
    );
    if (read === 0) break;
    update(buffer.subarray(0, read));
    position += read;
  }
}

/** The first byte a 206 answer covers (`Content-Range: bytes <start>-<end>/<size>`). */
function rangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
  return match ? Number(match[1]) : undefined;
}

/**
 * Brings the part file to the listed size (continuing what is there) and
 * reports whether its contents match the listing's hash.
 */
async function fillPart(job: DownloadJob): Promise<{ resumed: boolean; matches: boolean }> {
  const { file: listed, signal } = job;
  await platform().mkdir(dirname(job.part));
  const part = await platform().open(job.part);
  try {
    let offset = await part.size();
    if (offset > listed.size) offset = 0;
    let hash = contentHash(listed);
    await readPrefix(part, offset, (bytes) => hash.update(bytes));
    const resumed = offset > 0;
    if (offset < listed.size) {
      const headers: Record<string, string> = {};
      if (job.token) headers.Authorization = `Bearer ${job.token}`;
      if (offset > 0) headers.Range = `bytes=${offset}-`;
      const response = await timedFetch(signal, job.timeouts)(job.url, { headers });
      if (!response.ok) {
        await response.body?.cancel();
        throw errorForStatus(response.status, job.context);
      }
      if (offset > 0 && (response.status !== 206 || rangeStart(response) !== offset)) {
        // The server sent something other than the requested tail: start over.
        if (response.status === 206) {
          await response.body?.cancel();
          await part.truncate(0);
          throw new TypeError(`the hub answered range ${offset}- with another range`);
        }
        offset = 0;
        hash = contentHash(listed);
      }
      await part.truncate(offset);
      job.onBytes(offset);
      for await (const chunk of response.body ?? new ReadableStream<Uint8Array>()) {
        if (offset + chunk.length > listed.size) {
          throw new HubError(
            "integrity",
            `${listed.path} is longer than the ${listed.size} bytes the listing gives`,
            { fix: "pull again; if it persists, the repo's listing and files disagree" },
          );
        }
        await part.write(chunk, offset);
        hash.update(chunk);
        offset += chunk.length;
        job.onBytes(offset);
      }
      if (offset < listed.size) {
        throw new TypeError(`the connection closed after ${offset} of ${listed.size} bytes`);
      }
    }
    return { resumed, matches: hash.matches() };
  } finally {
    await part.close();
  }
}

function integrityError(job: DownloadJob): HubError {
  const hash = contentHash(job.file);
  return new HubError(
    "integrity",
    `${job.file.path} in ${job.context.repo} does not match the listing's hash ${hash.expected}`,
    { fix: "pull again; if it persists, the file on the hub or the mirror is corrupt" },
  );
}

/** The error for a download given up on; a dropped connection says how to resume. */
async function failure(error: unknown, job: DownloadJob): Promise<unknown> {
  if (!isNetworkError(error)) return toHubError(error, job.context);
  const kept = await fileSize(job.part) ?? 0;
  return new HubError(
    "unreachable",
    `downloading ${job.file.path} from ${job.context.repo} failed: ${(error as Error).message}`,
    {
      fix: `check the network and pull again: the download resumes from the ${kept} bytes kept`,
      cause: error,
    },
  );
}

/** Fills the part file, retrying dropped connections and transient statuses. */
async function fillPartWithRetries(job: DownloadJob) {
  for (let attempt = 0;; attempt++) {
    try {
      return await fillPart(job);
    } catch (error) {
      if (job.signal?.aborted) throw job.signal.reason;
      const transient = isNetworkError(error) ||
        (error instanceof HubError && error.status !== undefined && TRANSIENT.has(error.status));
      if (!transient || attempt >= job.retries) throw await failure(error, job);
      await sleep(Math.min(2000, 250 * 2 ** attempt), job.signal);
    }
  }
}

/** Makes sure `job.target` holds the verified file; returns whether it was there already. */
export async function downloadToCache(job: DownloadJob): Promise<DownloadOutcome> {
  if (await fileSize(job.target) === job.file.size) return "cached";
  const release = await lock(job.lock, job.signal);
  try {
    // Another pull may have finished the file while this one waited for the lock.
    if (await fileSize(job.target) === job.file.size) return "cached";
    let result = await fillPartWithRetries(job);
    if (!result.matches && result.resumed) {
      // The kept part may come from a broken earlier attempt: one fresh download.
      await platform().remove(job.part);
      result = await fillPartWithRetries(job);
    }
    if (!result.matches) {
      await platform().remove(job.part);
      throw integrityError(job);
    }
    await platform().mkdir(dirname(job.target));
    await platform().rename(job.part, job.target);
    return "downloaded";
  } catch (error) {
    // A file longer than listed is as corrupt as one with the wrong hash.
    if (error instanceof HubError && error.reason === "integrity") {
      await platform().remove(job.part).catch(() => {});
    }
    throw error;
  } finally {
    await release();
  }
}
