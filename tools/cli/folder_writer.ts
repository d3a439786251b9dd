/**
 * Writes a whole folder so that readers never see half of it: files go to a
 * sibling staging directory that is renamed into place at the end, and is
 * removed if anything fails.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { VlmError } from "../../src/errors/vlm_error.ts";

/** One file to write (path relative to the folder, `/`-separated). */
export interface FolderFile {
  /** Relative path. */
  path: string;
  /** Contents. */
  bytes: Uint8Array;
}

async function isNonEmptyDirectory(path: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(path)) return true;
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    if (error instanceof Deno.errors.NotADirectory) return true;
    throw error;
  }
}

/**
 * Writes `files` as folder `dir`. An existing non-empty `dir` is an error
 * unless `replace` is set, in which case it is swapped out only after the new
 * folder is complete.
 */
export async function writeFolderAtomically(
  dir: string,
  files: FolderFile[],
  replace: boolean,
): Promise<void> {
  if (!replace && await isNonEmptyDirectory(dir)) {
    throw new VlmError("usage", `${dir} already exists and is not empty`, {
      fix: "choose another --out folder, or pass --force to replace it",
    });
  }
  const suffix = crypto.randomUUID().slice(0, 8);
  const staging = `${dir}.partial-${suffix}`;
  await Deno.mkdir(dirname(staging), { recursive: true });
  try {
    for (const file of files) {
      const target = join(staging, file.path);
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.writeFile(target, file.bytes);
    }
    const old = `${dir}.old-${suffix}`;
    let moved = false;
    try {
      await Deno.rename(dir, old);
      moved = true;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    await Deno.rename(staging, dir);
    if (moved) await Deno.remove(old, { recursive: true });
  } catch (error) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw error;
  }
}
