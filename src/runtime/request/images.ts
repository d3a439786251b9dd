/**
 * Reading a request's images: each source's bytes, its content key, and
 * either its cached features or its decoded pixels with the tile plan they
 * will be cut by. Only the plans are needed to build the prompt, so the
 * budget is known before any image is tiled or encoded.
 *
 * @module
 */
import { decodeImage } from "../../image/decode.ts";
import type { RgbImage } from "../../image/raster.ts";
import { readImageSource } from "../../image/source.ts";
import type { ImageSource } from "../../image/source.ts";
import type { ImageSpec } from "../../spec/types.ts";
import { planTiles, type TilePlan } from "../../tokens/tiles.ts";
import { type CachedImage, type FeatureCache, imageKey } from "../feature_cache.ts";
import { abortIfNeeded } from "./abort.ts";

/** An image whose features have to be computed. */
export interface PendingImage {
  /** Decoded pixels (`undefined` once tiled: the request no longer holds them). */
  pixels: RgbImage | undefined;
  /** The tiles it will be cut into. */
  plan: TilePlan;
}

/** The images of one request, in order. */
export interface RequestImages {
  /** Content key of each image (bytes and splitting). */
  keys: string[];
  /** Per image: the cached features, or the pixels still to encode. */
  entries: ({ cached: CachedImage } | { pending: PendingImage })[];
  /** Tile plan of each image. */
  plans: TilePlan[];
  /** Images served from the feature cache. */
  cachedImages: number;
  /** Reading and decoding time, ms. */
  readMs: number;
  /** The request's splitting override, for tiling the pending images. */
  split: boolean | undefined;
  /** The tile cap per image, for tiling the pending images. */
  maxTiles: number | undefined;
}

/** How images are read. */
export interface ReadImagesOptions {
  /** The model's image settings. */
  spec: ImageSpec;
  /** Override the spec's splitting switch. */
  split?: boolean;
  /** Most tiles per image (the request's, else the model's image budget). */
  maxTiles?: number;
  /** Pixel limit per image. */
  maxPixels?: number;
  /** Features already computed, by content key. */
  cache: FeatureCache;
  /** Cancels reading. */
  signal?: AbortSignal;
}

/** Reads, keys and (on a cache miss) decodes every source. */
export async function readImages(
  sources: readonly ImageSource[],
  options: ReadImagesOptions,
): Promise<RequestImages> {
  const started = performance.now();
  const { split, maxTiles, signal } = options;
  const images: RequestImages = {
    keys: [],
    entries: [],
    plans: [],
    cachedImages: 0,
    readMs: 0,
    split,
    maxTiles,
  };
  for (const source of sources) {
    abortIfNeeded(signal);
    const bytes = await readImageSource(source, { signal });
    const key = await imageKey(bytes, split, maxTiles);
    images.keys.push(key);
    const cached = options.cache.get(key);
    if (cached) {
      images.entries.push({ cached });
      images.plans.push(cached.plan);
      images.cachedImages++;
      continue;
    }
    const pixels = decodeImage(bytes, { maxPixels: options.maxPixels });
    const plan = planTiles(pixels.width, pixels.height, options.spec, { split, maxTiles });
    images.entries.push({ pending: { pixels, plan } });
    images.plans.push(plan);
  }
  images.readMs = performance.now() - started;
  return images;
}
