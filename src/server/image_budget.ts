/**
 * A request's image budget: every image is checked (structure validated,
 * size read, one pass over its bytes, no pixels decoded) as soon as its
 * bytes arrive, before the request may queue for the model. Malformed images
 * are refused there (400), each image may not exceed a pixel count read
 * from its header (413: a decompression bomb — a small PNG declaring 7000×7000
 * — is refused without decoding a row), the request's images together may not
 * exceed another (413; decoding memory is a few bytes a pixel), and fetching and checking them may not run past a time
 * limit (408). The worker that runs the model never sees a refused image.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";
import { readImageHeader } from "../image/sniff.ts";
import { MAX_IMAGE_SIDE, type Size } from "../tokens/tiles.ts";

/**
 * Default pixels of one image: the processor caps the longest side at 4096
 * before tiling, so a larger image only costs decoding memory.
 */
export const DEFAULT_MAX_PIXELS_PER_IMAGE = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE;

/** Limits of one request's images. */
export interface ImageBudgetLimits {
  /** Total pixels of all the request's images. */
  maxPixels: number;
  /** Pixels of any one image (default {@linkcode DEFAULT_MAX_PIXELS_PER_IMAGE}). */
  maxPixelsPerImage?: number;
  /** Time for fetching and checking all the request's images, in ms. */
  timeMs: number;
}

/** The image budget of one request (create one per request). */
export class ImageBudget {
  /** Pixels admitted so far. */
  pixels = 0;
  /** Header sizes of the images admitted so far, in order. */
  readonly sizes: Size[] = [];
  readonly #limits: ImageBudgetLimits;
  readonly #deadline: number;
  /** Aborts when the time budget runs out (fetches of remote images listen to it). */
  readonly signal: AbortSignal;

  /** Starts the clock. */
  constructor(limits: ImageBudgetLimits) {
    this.#limits = limits;
    this.#deadline = performance.now() + limits.timeMs;
    this.signal = AbortSignal.timeout(limits.timeMs);
  }

  /** The error for a request whose image work ran out of time. */
  timeout(): VlmError {
    return new VlmError(
      "image_timeout",
      `reading the request's images took longer than the server's ${this.#limits.timeMs} ms`,
      { fix: "send the images inline as data: URLs, or fewer or smaller images" },
    );
  }

  /**
   * Checks one image's bytes and counts its pixels. Throws `image_invalid` /
   * `image_unsupported` for a bad file, `image_too_large` past the pixel
   * budget, `image_timeout` past the time budget.
   */
  admit(bytes: Uint8Array): void {
    if (performance.now() > this.#deadline) throw this.timeout();
    const { width, height } = readImageHeader(bytes);
    const each = this.#limits.maxPixelsPerImage ?? DEFAULT_MAX_PIXELS_PER_IMAGE;
    if (width * height > each) {
      const side = Math.floor(Math.sqrt(each));
      throw new VlmError(
        "image_too_large",
        `the image is ${width}×${height} = ${
          width * height
        } pixels, over this server's limit of ${each} pixels an image`,
        { fix: `downscale it to at most ${each} pixels (e.g. ${side}×${side}) before sending it` },
      );
    }
    this.sizes.push({ width, height });
    this.pixels += width * height;
    if (this.pixels > this.#limits.maxPixels) {
      throw new VlmError(
        "image_too_large",
        `the request's images have ${this.pixels} pixels, over this server's limit of ${this.#limits.maxPixels}`,
        { fix: "send fewer or smaller images (downscale them first)" },
      );
    }
    if (performance.now() > this.#deadline) throw this.timeout();
  }
}
