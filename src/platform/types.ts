/**
 * The platform seam: the few host services vlmkit needs beyond web APIs
 * (files, the working directory, environment variables, incremental
 * hashing, file locks). Core code calls these through {@linkcode Platform};
 * adapters for Deno, Node and plain web runtimes implement them.
 *
 * @module
 */

/** A local path, or a `file:` URL. */
export type PlatformPath = string | URL;

/** What {@linkcode Platform.stat} reports about an existing entry. */
export interface FileInfo {
  /** A regular file (not a folder). */
  readonly isFile: boolean;
  /** Size in bytes. */
  readonly size: number;
}

/** An open file, read and written at explicit positions. */
export interface PlatformFile {
  /** The current size in bytes. */
  size(): Promise<number>;
  /** Reads into `buffer` from `position`; the count read, 0 at the end. */
  read(buffer: Uint8Array, position: number): Promise<number>;
  /** Writes all of `bytes` at `position`. */
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** Cuts (or extends) the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  /** Closes the file. */
  close(): Promise<void>;
}

/**
 * A file opened read-only for synchronous reads at explicit positions: the
 * model builder is synchronous and reads a large file one piece at a time.
 */
export interface ReadOnlyFile {
  /** Size in bytes when opened. */
  readonly size: number;
  /** Fills `buffer` from `position` on; the count read (less than its length only at the end). */
  readAt(buffer: Uint8Array, position: number): number;
  /** Closes the file. */
  close(): void;
}

/** An incremental hash (SHA-256 or SHA-1). */
export interface IncrementalHash {
  /** Adds the next bytes. */
  update(bytes: Uint8Array): IncrementalHash;
  /** The lowercase hex digest of everything added. */
  digest(): string;
}

/** Hash algorithms the platform provides. */
export type HashAlgorithm = "sha256" | "sha1";

/**
 * Host services. Missing files are `undefined` (not errors) so callers can
 * word their own messages; other failures are thrown as the host raised them.
 */
export interface Platform {
  /** `deno`, `node`, or `web` (no file system). */
  readonly name: string;
  /** Whether local files can be read at all (false on the web adapter). */
  readonly fileSystem: boolean;
  /** The working directory, or `undefined` when the host has none. */
  cwd(): string | undefined;
  /** An environment variable; `undefined` when unset, empty or not readable. */
  env(name: string): string | undefined;
  /** A file's bytes, or `undefined` when it does not exist. */
  readFile(path: PlatformPath, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /**
   * Whether the process may read `path` without asking (Deno's permission
   * prompt); `true` on hosts without a permission model.
   */
  mayRead(path: PlatformPath): boolean;
  /** Facts about an entry, or `undefined` when it does not exist. */
  stat(path: PlatformPath): Promise<FileInfo | undefined>;
  /** Writes (creates or replaces) a file; the parent folder must exist. */
  writeFile(path: PlatformPath, bytes: Uint8Array): Promise<void>;
  /** Creates a folder and its parents (no error when it exists). */
  mkdir(path: PlatformPath): Promise<void>;
  /** Renames a file, replacing the target. */
  rename(from: PlatformPath, to: PlatformPath): Promise<void>;
  /** Removes a file or (with `recursive`) a folder; no error when it is absent. */
  remove(path: PlatformPath, options?: { recursive?: boolean }): Promise<void>;
  /** Opens a file for reading and writing, creating it when absent. */
  open(path: PlatformPath): Promise<PlatformFile>;
  /**
   * Opens an existing file for synchronous positioned reads, or `undefined`
   * when it does not exist. Absent on hosts without a file system.
   */
  openReadOnly?(path: PlatformPath): ReadOnlyFile | undefined;
  /**
   * Takes an exclusive lock named by `path` (waiting for other holders, in this
   * process or another); resolves to its release.
   */
  lock(path: string, signal?: AbortSignal): Promise<() => Promise<void>>;
  /** A new incremental hash. */
  createHash(algorithm: HashAlgorithm): IncrementalHash;
}
