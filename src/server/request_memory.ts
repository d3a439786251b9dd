/**
 * What one request will add to the server's memory, estimated from its plan
 * before it queues (image sizes from their headers, the tile plan the model
 * will use, the token counts): the decoded images (RGBA while decoding), the
 * vision encoder's working set per tile (the tile's pixels, one layer's
 * attention scores and hidden states, its output features), and the KV cache
 * for the prompt plus the new tokens. An estimate of the dominant terms, on
 * top of the loaded model; a server with a memory budget refuses a request
 * over it (413) and says which smaller request would fit.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import type { Plan } from "../spec/plan.ts";
import { planTiles, type Size } from "../tokens/tiles.ts";

/** Template tokens around a conversation (role markers, the assistant prefix), an upper bound. */
const TEMPLATE_TOKENS = 64;

/** The parts of one request's memory estimate, in bytes. */
export interface RequestMemory {
  /** Decoded images, 4 bytes a pixel. */
  imageBytes: number;
  /** Vision encoder working set: tiles × per-tile activation. */
  visionBytes: number;
  /** KV cache for prompt + new tokens. */
  kvBytes: number;
  /** The sum. */
  totalBytes: number;
  /** Tiles the images are cut into. */
  tiles: number;
  /** Prompt tokens (images exact, text counted, template bounded) plus new tokens. */
  tokens: number;
}

/** What the estimate reads from a request. */
export interface RequestShape {
  /** Each image's size from its header. */
  images: readonly Size[];
  /** The request's splitting switch. */
  split: boolean | undefined;
  /** The tile cap its images get (Infinity: none). */
  maxTiles: number;
  /** Tokens of the request's text. */
  textTokens: number;
  /** New tokens it may generate. */
  maxNewTokens: number;
}

/** Activation bytes of one tile through the vision encoder (one layer's working set). */
export function tileActivationBytes(plan: Plan): number {
  const { hidden, heads, mlp } = plan.spec.encoder;
  const seq = plan.encoder.sequenceLength;
  const T = plan.spec.image.tileSize;
  const pixels = 3 * T * T;
  const scores = heads * seq * seq;
  // Residual, normed input, q/k/v, attention output, MLP intermediate.
  const states = seq * (5 * hidden + mlp);
  const features = plan.tokensPerTile * plan.spec.decoder.hidden;
  return 4 * (pixels + scores + states + features);
}

/** Estimates the memory of a request of `shape` on a model of `plan`. */
export function requestMemory(plan: Plan, shape: RequestShape): RequestMemory {
  const tilePlans = shape.images.map((size) =>
    planTiles(size.width, size.height, plan.spec.image, {
      split: shape.split,
      maxTiles: shape.maxTiles,
    })
  );
  const tiles = tilePlans.reduce((n, p) => n + p.tiles, 0);
  const imageBytes = shape.images.reduce((n, s) => n + 4 * s.width * s.height, 0);
  const visionBytes = tiles * tileActivationBytes(plan);
  // The cache never outgrows the context (a longer request is refused before it runs).
  const tokens = Math.min(
    plan.decoder.contextLength,
    tiles * plan.tokensPerTile + shape.textTokens + TEMPLATE_TOKENS + shape.maxNewTokens,
  );
  const kvBytes = tokens * plan.decoder.kvBytesPerToken;
  return {
    imageBytes,
    visionBytes,
    kvBytes,
    totalBytes: imageBytes + visionBytes + kvBytes,
    tiles,
    tokens,
  };
}

const mib = (bytes: number) => `${Math.ceil(bytes / 2 ** 20)} MiB`;

/**
 * Throws `payload_too_large` (413) when the request of `shape` would need
 * more than `budgetBytes`, with the estimate's parts and the smaller request
 * that fits (unsplit images, fewer new tokens), or that none does. Returns
 * the estimate's total bytes when it fits.
 */
export function assertWithinMemory(plan: Plan, shape: RequestShape, budgetBytes: number): number {
  const need = requestMemory(plan, shape);
  if (need.totalBytes <= budgetBytes) return need.totalBytes;
  const unsplit = requestMemory(plan, { ...shape, split: false, maxTiles: 1 });
  const fixes: string[] = [];
  if (shape.images.length > 0 && unsplit.totalBytes <= budgetBytes && need.tiles > unsplit.tiles) {
    fixes.push(`send image_url.detail "low" (one tile an image: ~${mib(unsplit.totalBytes)})`);
  }
  if (need.imageBytes > budgetBytes / 2) {
    fixes.push("downscale the images before sending them (decoding takes 4 bytes a pixel)");
  }
  if (need.kvBytes > budgetBytes / 2) fixes.push("ask for fewer max_tokens");
  if (fixes.length === 0) fixes.push("send fewer or smaller images, or a shorter conversation");
  throw new VlmError(
    "payload_too_large",
    `the request needs ~${mib(need.totalBytes)} (images ${mib(need.imageBytes)}, ` +
      `vision ${need.tiles} tiles ${mib(need.visionBytes)}, KV cache ${need.tokens} tokens ` +
      `${mib(need.kvBytes)}), over this server's memory budget of ${mib(budgetBytes)} a request`,
    { fix: fixes.join("; or ") },
  );
}
