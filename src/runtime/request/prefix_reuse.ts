/**
 * KV prefix reuse: how much of the previous request's cache the next request
 * may keep. Equal ids do not mean equal images (every image is spelled with
 * the same placeholder tokens), so the shared prefix also ends at the first
 * image whose content differs.
 *
 * @module
 */
import type { KvCache } from "../../modules/types.ts";

/** Which images a request's `<image>` tokens stand for. */
export interface ImageIdentities {
  /** Content key of each image, in order. */
  keys: string[];
  /** Feature rows (image tokens) of each image. */
  rows: number[];
}

/** What the next request may reuse: its ids, its KV cache and the images behind them. */
export interface PreviousRequest {
  /** Every token the cache holds. */
  ids: number[];
  /** The decoder's cache after those tokens. */
  cache: KvCache;
  /** The images behind the `<image>` tokens; unknown for raw inputs. */
  images: ImageIdentities | undefined;
}

/**
 * Position of the first `<image>` token whose features may differ from the
 * previous request's. Images match while their keys match in order; unknown
 * identities never match.
 */
export function firstChangedImageToken(
  previous: ImageIdentities | undefined,
  current: ImageIdentities | undefined,
  ids: readonly number[],
  imageId: number,
): number {
  let sameRows = 0;
  if (previous && current) {
    for (let j = 0; j < current.keys.length; j++) {
      if (previous.keys[j] !== current.keys[j]) break;
      sameRows += current.rows[j];
    }
  }
  let seen = 0;
  for (let position = 0; position < ids.length; position++) {
    if (ids[position] !== imageId) continue;
    if (seen === sameRows) return position;
    seen++;
  }
  return ids.length;
}

/** Length of the longest common prefix of `a` and `b`. */
export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Tokens of `ids` the previous request's cache already holds with the same
 * meaning: the common prefix, cut at the first changed image, and at least
 * one token short of the whole prompt (the last one must run to give logits).
 */
export function reusablePrefix(
  previous: PreviousRequest,
  ids: readonly number[],
  images: ImageIdentities | undefined,
  imageId: number,
): number {
  return Math.max(
    0,
    Math.min(
      commonPrefix(previous.ids, ids),
      firstChangedImageToken(previous.images, images, ids, imageId),
      ids.length - 1,
    ),
  );
}
