/**
 * Writes one file so that its final name never holds a partial file: the
 * bytes go to a temporary sibling that is renamed into place.
 *
 * @module
 */

/** Writes `data` to `path` atomically (temporary file + rename). */
export async function writeFileAtomically(path: string, data: Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeFile(temporary, data);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
