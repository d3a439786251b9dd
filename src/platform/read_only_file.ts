/**
 * Synchronous positioned reads through `node:fs` (fetched at run time, as in
 * `builtin.ts`), which Node and Deno 2 both provide: the one implementation of
 * {@linkcode Platform.openReadOnly} for hosts with a file system.
 *
 * @module
 */
import { builtin } from "./builtin.ts";
import type { PlatformPath, ReadOnlyFile } from "./types.ts";

interface NodeSyncFs {
  openSync(path: PlatformPath, flags: string): number;
  fstatSync(fd: number): { size: number };
  readSync(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): number;
  closeSync(fd: number): void;
}

/** Opens `path` read-only; `undefined` when it does not exist. */
export function openReadOnlyFile(path: PlatformPath): ReadOnlyFile | undefined {
  const fs = builtin<NodeSyncFs>("node:fs");
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
  const size = fs.fstatSync(fd).size;
  return {
    size,
    readAt(buffer, position) {
      let done = 0;
      while (done < buffer.length) {
        const count = fs.readSync(fd, buffer, done, buffer.length - done, position + done);
        if (count === 0) break;
        done += count;
      }
      return done;
    },
    close: () => fs.closeSync(fd),
  };
}
