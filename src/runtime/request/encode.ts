/**
 * The second step of a request: image features, behind the feature cache.
 * The tiles of every image not in the cache go through the vision encoder in
 * one call (as the reference does), and their features are cached for the
 * next request about the same image.
 *
 * @module
 */
import { VlmError } from "../../errors/vlm_error.ts";
import { packTiles, type ProcessedImage, tileImage } from "../../image/processor.ts";
import type { Encoder, FeatureMatrix, Projector } from "../../modules/types.ts";
import type { Plan } from "../../spec/plan.ts";
import type { ImageSpec } from "../../spec/types.ts";
import type { CachedImage, FeatureCache } from "../feature_cache.ts";
import { abortIfNeeded } from "./abort.ts";
import type { RequestImages } from "./images.ts";
import type { ImageIdentities } from "./prefix_reuse.ts";

/** The vision modules and what they are checked against. */
export interface VisionModules {
  /** The model's Plan (tile size, tokens per tile). */
  plan: Plan;
  /** Vision tower. */
  encoder: Encoder;
  /** Connector. */
  projector: Projector;
}

/** The features of a request's images, in prompt order. */
export interface EncodedImages {
  /** Feature rows of all images, concatenated. */
  features: FeatureMatrix;
  /** Which image each run of rows belongs to (for prefix reuse). */
  identities: ImageIdentities;
  /** Tiling and normalisation time, ms. */
  tileMs: number;
  /** Vision encoder time, ms (0 when every image came from the cache). */
  visionMs: number;
}

/** Runs encoder then projector on normalised tiles and checks the row count. */
export async function encodeTiles(
  modules: VisionModules,
  tiles: number,
  data: Float32Array,
): Promise<FeatureMatrix> {
  const { plan } = modules;
  const T = plan.spec.image.tileSize;
  const encoded = await modules.encoder.encode({ tiles, size: T, data });
  const projected = await modules.projector.project(encoded);
  if (projected.rows !== tiles * plan.tokensPerTile) {
    throw new VlmError(
      "model_mismatch",
      `the vision encoder returned ${projected.rows} feature rows for ${tiles} tiles; the plan expects ${plan.tokensPerTile} per tile`,
      { fix: "check image_seq_len / scale_factor against the vision_encoder file" },
    );
  }
  return projected;
}

/** Cuts every image not served from the cache into its tiles. */
export function tilePending(
  images: RequestImages,
  spec: ImageSpec,
): { index: number; processed: ProcessedImage }[] {
  return images.entries.flatMap((entry, index) => {
    if (!("pending" in entry)) return [];
    const pixels = entry.pending.pixels;
    if (!pixels) throw new Error("internal: an image was tiled twice");
    const processed = tileImage(pixels, spec, { split: images.split, maxTiles: images.maxTiles });
    // The decoded image is released once tiled (a 12 MP photo is 36 MB of RGB).
    entry.pending.pixels = undefined;
    return [{ index, processed }];
  });
}

/** Features of every image: cached ones as they are, the rest encoded together and cached. */
export async function encodeImages(
  images: RequestImages,
  modules: VisionModules,
  cache: FeatureCache,
  signal?: AbortSignal,
): Promise<EncodedImages> {
  const { plan } = modules;
  const t0 = performance.now();
  const pending = tilePending(images, plan.spec.image);
  const packed = packTiles(pending.map((p) => p.processed), plan.spec.image);
  const t1 = performance.now();
  const results: CachedImage[] = images.entries.map((entry) =>
    "cached" in entry ? entry.cached : undefined!
  );
  if (packed.tiles > 0) {
    abortIfNeeded(signal);
    const projected = await encodeTiles(modules, packed.tiles, packed.data);
    let row = 0;
    for (const p of pending) {
      const rows = p.processed.tiles.length * plan.tokensPerTile;
      const cols = projected.cols;
      const features = { rows, cols, data: projected.data.slice(row * cols, (row + rows) * cols) };
      row += rows;
      const entry = { plan: p.processed.plan, features };
      results[p.index] = entry;
      cache.set(images.keys[p.index], entry);
    }
  }
  return {
    features: concatFeatures(results.map((r) => r.features)),
    identities: { keys: images.keys, rows: results.map((r) => r.features.rows) },
    tileMs: t1 - t0,
    visionMs: packed.tiles > 0 ? performance.now() - t1 : 0,
  };
}

function concatFeatures(parts: readonly FeatureMatrix[]): FeatureMatrix {
  const cols = parts[0]?.cols ?? 0;
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const data = new Float32Array(rows * cols);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { rows, cols, data };
}
