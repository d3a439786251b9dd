/**
 * Image features by image content: a second question about the same picture
 * skips decoding, tiling and the vision encoder. Least-recently-used eviction
 * by entry count.
 *
 * @module
 */
import type { FeatureMatrix } from "../modules/types.ts";
import type { TilePlan } from "../tokens/tiles.ts";

/** What is cached per image. */
export interface CachedImage {
  /** Geometry the features were made with. */
  plan: TilePlan;
  /** Projected features, tiles in prompt order. */
  features: FeatureMatrix;
}

/** SHA-256 of the encoded bytes, plus the options that change the features. */
export async function imageKey(
  bytes: Uint8Array,
  split: boolean | undefined,
  maxTiles?: number,
): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  const tiles = maxTiles === undefined || maxTiles === Infinity ? "" : `:max${maxTiles}`;
  return `${hex}:${split === undefined ? "default" : split ? "split" : "nosplit"}${tiles}`;
}

/** A bounded LRU map of image features. */
export class FeatureCache {
  readonly #entries = new Map<string, CachedImage>();
  readonly #capacity: number;
  /** Lookups answered from the cache. */
  hits = 0;

  /** `capacity` entries at most; 0 disables caching. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Returns and refreshes an entry. */
  get(key: string): CachedImage | undefined {
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.hits++;
    }
    return entry;
  }

  /** Stores an entry, evicting the least recently used beyond capacity. */
  set(key: string, value: CachedImage): void {
    if (this.#capacity === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.#capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops everything. */
  clear(): void {
    this.#entries.clear();
  }
}
