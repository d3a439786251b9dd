/**
 * The one atomic file writer: bytes go to a random temporary sibling that is
 * renamed over the target, so the target's name never holds a partial file.
 *
 * @module
 */
import { platform } from "./current.ts";
import type { Platform } from "./types.ts";

/** The folder part of a `/`- or `\`-separated path (`.` when there is none). */
export function parentFolder(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut < 0 ? "." : cut === 0 ? path.slice(0, 1) : path.slice(0, cut);
}

/** Writes `data` (bytes or UTF-8 text) to `path` atomically, creating its folder. */
export async function writeFileAtomically(
  path: string,
  data: Uint8Array | string,
  host: Platform = platform(),
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await host.mkdir(parentFolder(path));
  const temporary = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await host.writeFile(temporary, bytes);
    await host.rename(temporary, path);
  } catch (error) {
    await host.remove(temporary).catch(() => {});
    throw error;
  }
}
