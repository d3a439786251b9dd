/**
 * What converting one page produced, as `convertDocument` streams it, the CLI
 * records it and the server sends it.
 *
 * @module
 */
import type { VlmErrorCode } from "../errors/vlm_error.ts";

/**
 * How a page ended: `ok` (the model closed its DocTags), `looped` (the loop
 * guard stopped a repetition), `capped` (the token cap cut it off), `failed`
 * (an error; the other pages still run).
 */
export type PageStatus = "ok" | "looped" | "capped" | "failed";

/** Wall-clock times of one page, in milliseconds. */
export interface PageTimings {
  /** Rasterising (PDF) or reading (image) the page. */
  rasterMs: number;
  /** Generating its DocTags (0 for a resumed page). */
  generateMs: number;
  /** Of `generateMs`: the vision encoder. */
  visionMs?: number;
  /** Of `generateMs`: prompt embedding and the prefill pass. */
  prefillMs?: number;
  /** Decoding speed after the first token. */
  decodeTokensPerSec?: number;
}

/** One converted page. */
export interface PageResult {
  /** 1-based page number in the source. */
  pageNo: number;
  /** How it ended. */
  status: PageStatus;
  /** Why, for every status but `ok`. */
  reason?: string;
  /** The error's code, for `failed`. */
  errorCode?: VlmErrorCode;
  /** The DocTags the model wrote (possibly partial; empty when failed). */
  doctags: string;
  /** Page size: PDF points for PDF pages, pixels for image pages. */
  size: { width: number; height: number };
  /** Pixel size the model saw. */
  raster: { width: number; height: number };
  /** Tokens generated. */
  tokens: number;
  /** True when the DocTags came from an earlier run (`completed`), not from the model. */
  resumed: boolean;
  /** Timings. */
  timings: PageTimings;
}
