/**
 * The wasm-anchor page driver's input and output (`driver.ts` runs the job;
 * `page_site.ts` and the tests start it).
 *
 * @module
 */

/** What the driver is asked to do. */
export interface DriverJob {
  /**
   * An empty folder for the page and vlmkit's browser bundle, built there (here, where
   * esbuild and npm may run) unless it already holds them; served at `/`.
   */
  site: string;
  /** URL prefix → folder, for the models and GGUF files. */
  routes: Record<string, string>;
  /** Serve COOP/COEP headers, so that the page is cross-origin isolated (threads). */
  isolated: boolean;
  /** Functions of `globalThis.anchor` and their single argument, run in order. */
  calls: {
    fn: "measure" | "greedy" | "decode" | "bandwidth" | "matmul" | "copyOut";
    args: Record<string, unknown>;
  }[];
  /** Copy the page's console to stderr as it happens. */
  verbose?: boolean;
  /**
   * Run every call in one browser context (each in a new page), so that later calls see the
   * HTTP cache and the compiled-code cache earlier ones filled; default: a fresh context each.
   */
  sameContext?: boolean;
  /** Let the browser cache responses (default `no-store`). */
  cacheable?: boolean;
  /** Extra Chromium command-line switches (e.g. `--js-flags=...`). */
  browserArgs?: string[];
  /** Per-call timeout, ms (default 30 minutes). */
  timeoutMs?: number;
}

/** What the driver prints. */
export interface DriverOutput {
  /** wllama's package version. */
  wllamaVersion: string;
  /** Each call's result, in order. */
  results: unknown[];
  /** The 1-minute load average when the calls started and when they ended. */
  loadAverage: [number, number];
}

/** The path of Debian's Chromium, which the driver launches. */
export const CHROMIUM = "/usr/bin/chromium";
