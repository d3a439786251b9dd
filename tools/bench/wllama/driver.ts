/**
 * Runs calls of the wasm-anchor page (`page/anchor.js`) in headless Chromium,
 * each in a fresh page (onnxruntime-web fixes its thread count once per page),
 * and prints their results as one JSON line ({@linkcode DriverOutput}). Run in its own process with `-A`:
 * Playwright needs sys, env and net access the bench does not grant.
 *
 *   deno run -A tools/bench/wllama/driver.ts < JOB.json
 *
 * The job (on stdin) is a {@linkcode DriverJob}.
 *
 * @module
 */
import { chromium } from "playwright-core";
import { buildAnchorSite } from "./page_site.ts";
import { serveFolders } from "../../static_server.ts";

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
    fn: "measure" | "greedy";
    args: Record<string, unknown>;
  }[];
  /** Copy the page's console to stderr as it happens. */
  verbose?: boolean;
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

if (import.meta.main) {
  const job = JSON.parse(
    await new Response(Deno.stdin.readable).text(),
  ) as DriverJob;
  const site = await buildAnchorSite(job.site);
  const server = serveFolders({ ...job.routes, ...site.routes }, {
    isolated: job.isolated,
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox"],
  });
  try {
    const results: unknown[] = [];
    const startLoad = Deno.loadavg()[0];
    for (const call of job.calls) {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(job.timeoutMs ?? 1_800_000);
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(String(error)));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
        if (job.verbose) {
          console.error(`page ${message.type()}: ${message.text()}`);
        }
      });
      await page.goto(`${server.origin}/anchor.html`);
      await page.waitForFunction("globalThis.anchor !== undefined", null, {
        timeout: 60_000,
      });
      try {
        results.push(
          await page.evaluate(
            ([fn, args]) =>
              (globalThis as unknown as Record<
                string,
                Record<string, (a: unknown) => unknown>
              >)
                .anchor[fn](args),
            [call.fn, call.args] as const,
          ),
        );
      } catch (error) {
        throw new Error(
          `${call.fn} failed in the page: ${error}\n${errors.join("\n")}`,
        );
      }
      await context.close();
    }
    const output: DriverOutput = {
      wllamaVersion: site.wllamaVersion,
      results,
      loadAverage: [startLoad, Deno.loadavg()[0]],
    };
    console.log(JSON.stringify(output));
  } finally {
    await browser.close();
    await server.close();
  }
}
