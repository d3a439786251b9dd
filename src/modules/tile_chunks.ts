/**
 * Runs a vision session over a batch of tiles a few tiles at a time. Tiles
 * are independent (the batch axis never mixes them), so the rows are the same
 * as one call over every tile, while the session's activations — above all
 * the attention scores, heads × patches² floats per tile — are held for one
 * chunk only: a 13-tile SmolVLM-256M image needs ~50 MB of scores per tile
 * instead of ~650 MB at once. 8-bit exports with dynamically quantized
 * activations have one scale per call, which couples the tiles of a call:
 * `loadModel` gives them every tile at once, as the reference runs them, except
 * on the wasm backend, where memory comes first and they are chunked too.
 *
 * @module
 */
import type { FeatureMatrix, PixelBatch } from "./types.ts";

/** Patch rows one session call should cover: large enough for efficient GEMMs. */
export const PATCH_ROWS_PER_RUN = 2048;

/** Tiles per session call for tiles of `patchesPerTile` patches (at least one). */
export function tilesPerRun(patchesPerTile: number): number {
  return Math.max(1, Math.floor(PATCH_ROWS_PER_RUN / Math.max(1, patchesPerTile)));
}

/**
 * Calls `run` on consecutive chunks of at most `chunk` tiles and concatenates
 * the rows in tile order.
 */
export async function encodeInChunks(
  pixels: PixelBatch,
  chunk: number,
  run: (part: PixelBatch) => Promise<FeatureMatrix>,
): Promise<FeatureMatrix> {
  const { tiles, size, data } = pixels;
  if (tiles <= chunk) return await run(pixels);
  const perTile = 3 * size * size;
  const parts: FeatureMatrix[] = [];
  for (let start = 0; start < tiles; start += chunk) {
    const count = Math.min(chunk, tiles - start);
    parts.push(
      await run({
        tiles: count,
        size,
        data: data.subarray(start * perTile, (start + count) * perTile),
      }),
    );
  }
  const cols = parts[0].cols;
  const rows = parts.reduce((sum, part) => sum + part.rows, 0);
  const joined = new Float32Array(rows * cols);
  let offset = 0;
  for (const part of parts) {
    joined.set(part.data.subarray(0, part.rows * cols), offset);
    offset += part.rows * cols;
  }
  return { rows, cols, data: joined };
}
