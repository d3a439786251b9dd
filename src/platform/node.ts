/**
 * The Node adapter: files through `node:fs/promises`, fetched at run time
 * (see `builtin.ts`) so bundles for other hosts never import it.
 *
 * Node has no file-lock API, so {@linkcode Platform.lock} creates
 * `<path>.pid` exclusively and holds it; a lock whose process has died is
 * taken over. It excludes other Node processes and this one; a Deno process
 * holding the OS lock on `<path>` is not seen.
 *
 * @module
 */
import { abortable } from "./abortable.ts";
import { builtin } from "./builtin.ts";
import { nodeCryptoHash } from "./hash.ts";
import { openReadOnlyFile } from "./read_only_file.ts";
import type { Platform, PlatformFile, PlatformPath } from "./types.ts";

interface NodeFileHandle {
  stat(): Promise<{ size: number }>;
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
  write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

interface NodeFs {
  readFile(path: PlatformPath, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  writeFile(path: PlatformPath, data: Uint8Array, options?: { flag?: string }): Promise<void>;
  stat(path: PlatformPath): Promise<{ isFile(): boolean; size: number }>;
  mkdir(path: PlatformPath, options: { recursive: true }): Promise<unknown>;
  rename(from: PlatformPath, to: PlatformPath): Promise<void>;
  rm(path: PlatformPath, options: { recursive?: boolean; force: true }): Promise<void>;
  open(path: PlatformPath, flags: number): Promise<NodeFileHandle>;
  constants: { O_RDWR: number; O_CREAT: number };
}

interface NodeProcess {
  pid: number;
  cwd(): string;
  env: Record<string, string | undefined>;
  kill(pid: number, signal: 0): void;
}

const LOCK_POLL_MS = 100;

function fs(): NodeFs {
  return builtin<NodeFs>("node:fs/promises");
}

function nodeProcess(): NodeProcess {
  return (globalThis as unknown as { process: NodeProcess }).process;
}

function code(error: unknown): string | undefined {
  return (error as { code?: string })?.code;
}

async function ignoreMissing<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    if (code(error) === "ENOENT") return undefined;
    throw error;
  }
}

function wrapFile(handle: NodeFileHandle): PlatformFile {
  return {
    size: async () => (await handle.stat()).size,
    async read(buffer, position) {
      return (await handle.read(buffer, 0, buffer.length, position)).bytesRead;
    },
    async write(bytes, position) {
      for (let offset = 0; offset < bytes.length;) {
        const { bytesWritten } = await handle.write(
          bytes,
          offset,
          bytes.length - offset,
          position + offset,
        );
        offset += bytesWritten;
      }
    },
    truncate: (length) => handle.truncate(length),
    close: () => handle.close(),
  };
}

function alive(pid: number): boolean {
  try {
    nodeProcess().kill(pid, 0);
    return true;
  } catch (error) {
    return code(error) === "EPERM"; // exists, owned by someone else
  }
}

/**
 * Takes `<path>.pid` exclusively, taking over the file of a dead holder. A
 * holder in this process (its own pid) is waited for like any other.
 */
async function lockFile(
  path: string,
  signal: AbortSignal | undefined,
): Promise<() => Promise<void>> {
  const owner = `${path}.pid`;
  const pid = nodeProcess().pid;
  for (;;) {
    signal?.throwIfAborted();
    try {
      await fs().writeFile(owner, new TextEncoder().encode(String(pid)), { flag: "wx" });
      return async () => await fs().rm(owner, { force: true });
    } catch (error) {
      if (code(error) !== "EEXIST") throw error;
    }
    const holder = Number(new TextDecoder().decode(await ignoreMissing(fs().readFile(owner))));
    // An empty file is a holder between create and write: wait for it like any other.
    if (holder > 0 && holder !== pid && !alive(holder)) {
      await fs().rm(owner, { force: true });
      continue;
    }
    await abortable(new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS)), signal);
  }
}

/** The {@linkcode Platform} of a Node process (Node 20.16 or newer). */
export function nodePlatform(): Platform {
  return {
    name: "node",
    fileSystem: true,
    cwd: () => nodeProcess().cwd(),
    env: (name) => nodeProcess().env[name] || undefined,
    mayRead: () => true,
    async readFile(path, signal) {
      const bytes = await ignoreMissing(fs().readFile(path, { signal }));
      // A plain Uint8Array view, not a Buffer: callers compare and slice it as web code does.
      return bytes && new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    async stat(path) {
      const info = await ignoreMissing(fs().stat(path));
      return info && { isFile: info.isFile(), size: info.size };
    },
    writeFile: (path, bytes) => fs().writeFile(path, bytes),
    async mkdir(path) {
      await fs().mkdir(path, { recursive: true });
    },
    rename: (from, to) => fs().rename(from, to),
    remove: (path, options) =>
      fs().rm(path, { recursive: options?.recursive ?? false, force: true }),
    async open(path) {
      const { O_RDWR, O_CREAT } = fs().constants;
      return wrapFile(await fs().open(path, O_RDWR | O_CREAT));
    },
    openReadOnly: openReadOnlyFile,
    lock: lockFile,
    createHash: nodeCryptoHash,
  };
}
