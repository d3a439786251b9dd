/**
 * Writes a GGUF file's chunks (as `encodeGguf` / `decoderGguf` yield them) to
 * a path, one chunk at a time, so the whole file is never one buffer.
 *
 * @module
 */

/** Writes `chunks` in order to `path` (created or truncated). */
export async function writeChunks(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    for (const chunk of chunks) {
      let at = 0;
      while (at < chunk.length) at += await file.write(chunk.subarray(at));
    }
  } finally {
    file.close();
  }
}
