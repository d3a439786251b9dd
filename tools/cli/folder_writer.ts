/**
 * Writes a whole folder so that readers never see half of it: files go to a
 * sibling staging directory that is renamed into place at the end, and is
 * removed if anything fails. A streaming writer fills the staging folder file
 * by file (tensor by tensor) through {@linkcode writeFolderStreaming}.
 *
 * @module
 */
import { dirname, join } from "node:path";
import type { FolderSink } from "../../src/build/synthesize.ts";
import type { AppendFile } from "../../src/build/tensor_sink.ts";
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

/** Appends to one file with synchronous writes (the builders that feed it are synchronous). */
class SyncAppendFile implements AppendFile {
  readonly #file: Deno.FsFile;
  #open = true;

  constructor(path: string) {
    this.#file = Deno.openSync(path, { write: true, createNew: true });
  }

  append(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.byteLength;) {
      done += this.#file.writeSync(bytes.subarray(done));
    }
  }

  close(): void {
    if (this.#open) this.#file.close();
    this.#open = false;
  }
}

/** The staging folder handed to {@linkcode writeFolderStreaming}'s body. */
export class StagingFolder implements FolderSink {
  readonly #open = new Set<SyncAppendFile>();

  /** Writes under `root`. */
  constructor(readonly root: string) {}

  #target(path: string): string {
    const target = join(this.root, path);
    Deno.mkdirSync(dirname(target), { recursive: true });
    return target;
  }

  create(path: string): AppendFile {
    const file = new SyncAppendFile(this.#target(path));
    this.#open.add(file);
    return {
      append: (bytes) => file.append(bytes),
      close: () => {
        file.close();
        this.#open.delete(file);
      },
    };
  }

  write(path: string, bytes: Uint8Array): void {
    Deno.writeFileSync(this.#target(path), bytes);
  }

  rename(from: string, to: string): void {
    Deno.renameSync(join(this.root, from), this.#target(to));
  }

  /** Closes every file still open (after a failure). */
  closeAll(): void {
    for (const file of this.#open) file.close();
    this.#open.clear();
  }
}

/**
 * Runs `body` to fill a staging folder beside `dir`, then renames it to
 * `dir`; if `body` (or the rename) fails, the staging folder is removed and
 * `dir` is untouched. An existing non-empty `dir` is an error unless
 * `replace` is set, in which case it is swapped out only after the new
 * folder is complete.
 */
export async function writeFolderStreaming<T>(
  dir: string,
  replace: boolean,
  body: (folder: StagingFolder) => T | Promise<T>,
): Promise<T> {
  if (!replace && await isNonEmptyDirectory(dir)) {
    throw new VlmError("usage", `${dir} already exists and is not empty`, {
      fix: "choose another --out folder, or pass --force to replace it",
    });
  }
  const suffix = crypto.randomUUID().slice(0, 8);
  const staging = `${dir}.partial-${suffix}`;
  await Deno.mkdir(staging, { recursive: true });
  const folder = new StagingFolder(staging);
  try {
    const result = await body(folder);
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
    return result;
  } catch (error) {
    folder.closeAll();
    await Deno.remove(staging, { recursive: true }).catch(() => {});
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
  await writeFolderStreaming(dir, replace, async (folder) => {
    for (const file of files) {
      const target = join(folder.root, file.path);
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.writeFile(target, file.bytes);
    }
  });
}
