/**
 * The adapter for hosts without a file system (browsers, edge workers that
 * are neither Deno nor Node): every file operation is a `usage` error that
 * says what to pass instead.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { Platform } from "./types.ts";

function unsupported(what: string): VlmError {
  return new VlmError("usage", `${what} needs a file system, which this runtime does not have`, {
    fix: "pass bytes, a Blob or an http(s) URL (for a model: a URL or a ModelFolder object)",
  });
}

const refuse = (what: string) => Promise.reject(unsupported(what));

/** A {@linkcode Platform} with no files, no environment and no hashing. */
export function webPlatform(): Platform {
  return {
    name: "web",
    fileSystem: false,
    cwd: () => undefined,
    env: () => undefined,
    readFile: (path) => refuse(`reading ${String(path)}`),
    mayRead: () => false,
    stat: (path) => refuse(`inspecting ${String(path)}`),
    writeFile: (path) => refuse(`writing ${String(path)}`),
    mkdir: (path) => refuse(`creating ${String(path)}`),
    rename: (from) => refuse(`renaming ${String(from)}`),
    remove: (path) => refuse(`removing ${String(path)}`),
    open: (path) => refuse(`opening ${String(path)}`),
    lock: (path) => refuse(`locking ${path}`),
    createHash() {
      throw unsupported("hashing a download");
    },
  };
}
