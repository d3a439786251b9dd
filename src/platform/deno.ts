/**
 * The Deno adapter: files through the `Deno` namespace, locks with
 * `FsFile.lock` (an OS lock, released when the process dies), hashing from
 * `node:crypto`.
 *
 * @module
 */
import { abortable } from "./abortable.ts";
import { nodeCryptoHash } from "./hash.ts";
import { openReadOnlyFile } from "./read_only_file.ts";
import type { FileInfo, Platform, PlatformFile, PlatformPath } from "./types.ts";

interface DenoFsFile {
  stat(): Promise<{ size: number }>;
  seek(offset: number, whence: number): Promise<number>;
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  truncate(length?: number): Promise<void>;
  lock(exclusive?: boolean): Promise<void>;
  close(): void;
}

/** The part of the `Deno` namespace the adapter uses (typed here so web type checks pass). */
interface DenoNamespace {
  cwd(): string;
  permissions: {
    querySync(descriptor: { name: "read"; path: PlatformPath }): { state: string };
  };
  env: { get(name: string): string | undefined };
  readFile(path: PlatformPath, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  writeFile(path: PlatformPath, data: Uint8Array): Promise<void>;
  stat(path: PlatformPath): Promise<{ isFile: boolean; size: number }>;
  mkdir(path: PlatformPath, options?: { recursive?: boolean }): Promise<void>;
  rename(from: PlatformPath, to: PlatformPath): Promise<void>;
  remove(path: PlatformPath, options?: { recursive?: boolean }): Promise<void>;
  open(
    path: PlatformPath,
    options: { read?: boolean; write?: boolean; create?: boolean },
  ): Promise<DenoFsFile>;
}

const SEEK_START = 0;

function missing(error: unknown): boolean {
  return (error as Error)?.name === "NotFound";
}

async function ignoreMissing<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    if (missing(error)) return undefined;
    throw error;
  }
}

function wrapFile(file: DenoFsFile): PlatformFile {
  return {
    size: async () => (await file.stat()).size,
    async read(buffer, position) {
      await file.seek(position, SEEK_START);
      return (await file.read(buffer)) ?? 0;
    },
    async write(bytes, position) {
      await file.seek(position, SEEK_START);
      for (let offset = 0; offset < bytes.length;) {
        offset += await file.write(bytes.subarray(offset));
      }
    },
    truncate: (length) => file.truncate(length),
    close: () => Promise.resolve(file.close()),
  };
}

/** Whether this is a Deno process. */
export function isDeno(): boolean {
  return typeof (globalThis as { Deno?: { readFile?: unknown } }).Deno?.readFile === "function";
}

/** The {@linkcode Platform} of a Deno process. */
export function denoPlatform(): Platform {
  const deno = (globalThis as unknown as { Deno: DenoNamespace }).Deno;
  return {
    name: "deno",
    fileSystem: true,
    cwd: () => deno.cwd(),
    env(name) {
      try {
        return deno.env.get(name) || undefined;
      } catch {
        return undefined; // no --allow-env: the caller's default applies
      }
    },
    readFile: (path, signal) => ignoreMissing(deno.readFile(path, { signal })),
    mayRead: (path) => deno.permissions.querySync({ name: "read", path }).state === "granted",
    async stat(path): Promise<FileInfo | undefined> {
      const info = await ignoreMissing(deno.stat(path));
      return info && { isFile: info.isFile, size: info.size };
    },
    writeFile: (path, bytes) => deno.writeFile(path, bytes),
    mkdir: (path) => deno.mkdir(path, { recursive: true }),
    rename: (from, to) => deno.rename(from, to),
    async remove(path, options) {
      await ignoreMissing(deno.remove(path, options));
    },
    open: async (path) =>
      wrapFile(await deno.open(path, { read: true, write: true, create: true })),
    openReadOnly: openReadOnlyFile,
    async lock(path, signal) {
      const file = await deno.open(path, { create: true, write: true });
      const locking = file.lock(true);
      try {
        await abortable(locking, signal);
      } catch (error) {
        // The lock may still be granted later: close the file then, which releases it.
        locking.then(() => file.close(), () => file.close());
        throw error;
      }
      return () => Promise.resolve(file.close());
    },
    createHash: nodeCryptoHash,
  };
}
