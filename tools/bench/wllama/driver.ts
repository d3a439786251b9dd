/**
 * Runs calls of the wasm-anchor page (`page/anchor.js`) in headless Chromium,
 * each in a fresh page (onnxruntime-web fixes its thread count once per page),
 * and prints their results as one JSON line. Run in its own process with `-A`:
 * Playwright needs sys, env and net access the bench does not grant.
 *
 *   deno run -A tools/bench/wllama/driver.ts < JOB.json
 *
 * The job (on stdin) is a {@linkcode DriverJob}.
 *
 * @module
 */
import { chromium } from "playwright-core";
import { serveFolders } from "./static_server.ts";

/** What the driver is asked to do. */
export interface DriverJob {
  /** URL prefix → folder; `/` must hold anchor.html, anchor.js and the vlmkit browser bundle. */
  routes: Record<string, string>;
  /** Serve COOP/COEP headers, so that the page is cross-origin isolated (threads). */
  isolated: boolean;
  /** Functions of `globalThis.anchor` and their single argument, run in order. */
  calls: { fn: "measure" | "greedy"; args: Record<string, unknown> }[];
  /** Per-call timeout, ms (default 30 minutes). */
  timeoutMs?: number;
}

/** The path of Debian's Chromium, which the driver launches. */
export const CHROMIUM = "/usr/bin/chromium";

if (import.meta.main) {
  const job = JSON.parse(
    await new Response(Deno.stdin.readable).text(),
  ) as DriverJob;
  const server = serveFolders(job.routes, { isolated: job.isolated });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox"],
  });
  try {
    const results: unknown[] = [];
    for (const call of job.calls) {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(job.timeoutMs ?? 1_800_000);
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(String(error)));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
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
    console.log(JSON.stringify(results));
  } finally {
    await browser.close();
    await server.close();
  }
}
