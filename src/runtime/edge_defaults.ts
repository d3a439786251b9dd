/**
 * The image budget a backend gets when the caller sets none. On wasm every
 * tile costs encoder activations inside a 4 GiB (wasm32) heap and seconds of
 * single-threaded vision time, and SmolVLM's full split of a photo is 13
 * tiles (17 for 1600×1200): the default caps an image at 5 tiles (a 2×2 grid
 * plus the global image — a 1024×768 photo at 1024 px). Native runtimes keep
 * the model's full split.
 *
 * @module
 */
import type { RuntimeName } from "./load_options.ts";

/** Most tiles per image on the wasm backend unless `maxTiles` says otherwise. */
export const WASM_MAX_TILES = 5;

/** The per-image tile cap a model on `backend` uses by default (Infinity: no cap). */
export function defaultMaxTiles(backend: RuntimeName): number {
  return backend === "wasm" ? WASM_MAX_TILES : Infinity;
}
