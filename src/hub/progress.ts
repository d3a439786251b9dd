/**
 * Progress of a pull across all its files. The total is the sum of the
 * listed sizes, known before the first byte moves; the counts never go
 * backwards (bytes fetched again after a restarted download are not counted
 * twice), and files already in the cache count as done.
 *
 * @module
 */
import type { RepoFile } from "./listing.ts";

/** One progress event. */
export interface PullProgress {
  /** The file the event is about (repo path). */
  file: string;
  /** Bytes of that file on disk so far. */
  fileBytes: number;
  /** That file's size. */
  fileTotal: number;
  /** Bytes of all files so far. */
  bytes: number;
  /** Size of all files of the pull. */
  total: number;
  /** Files complete so far. */
  filesDone: number;
  /** Number of files of the pull. */
  fileCount: number;
}

/** Receives progress events; called synchronously, so keep it cheap. */
export type ProgressCallback = (progress: PullProgress) => void;

/** Turns per-file byte counts into pull-wide {@linkcode PullProgress} events. */
export class ProgressTracker {
  /** Size of all files. */
  readonly total: number;
  readonly #done = new Map<string, number>();
  readonly #finished = new Set<string>();
  readonly #sizes: Map<string, number>;
  #bytes = 0;

  /** Tracks `files`, reporting to `onProgress`. */
  constructor(files: readonly RepoFile[], private readonly onProgress?: ProgressCallback) {
    this.#sizes = new Map(files.map((file) => [file.path, file.size]));
    this.total = files.reduce((sum, file) => sum + file.size, 0);
  }

  /** Bytes of all files so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** `path` has `fileBytes` bytes on disk (a lower count than before is ignored). */
  advance(path: string, fileBytes: number): void {
    const size = this.#sizes.get(path) ?? 0;
    const before = this.#done.get(path) ?? 0;
    const now = Math.min(size, Math.max(before, fileBytes));
    this.#done.set(path, now);
    this.#bytes += now - before;
    this.#emit(path, now);
  }

  /** `path` is complete. */
  finish(path: string): void {
    this.#finished.add(path);
    this.advance(path, this.#sizes.get(path) ?? 0);
  }

  #emit(path: string, fileBytes: number): void {
    this.onProgress?.({
      file: path,
      fileBytes,
      fileTotal: this.#sizes.get(path) ?? 0,
      bytes: this.#bytes,
      total: this.total,
      filesDone: this.#finished.size,
      fileCount: this.#sizes.size,
    });
  }
}
