/**
 * Runs calls of the wasm-anchor page (`page/anchor.js`) in headless Chromium,
 * each in a fresh page (onnxruntime-web fixes its thread count once per page),
 * and prints their results as one JSON line (`DriverOutput` in driver_job.ts). Run in its own process with `-A`:
 * Playwright needs sys, env and net access the bench does not grant.
 *
 *   deno run -A tools/bench/wllama/driver.ts < JOB.json
 *
 * The job (on stdin) is a `DriverJob` (driver_job.ts).
 *
 * @module
 */
import { chromium } from "playwright-core";
import { buildAnchorSite } from "./page_site.ts";
import { serveFolders } from "../../static_server.ts";
import { CHROMIUM, type DriverJob, type DriverOutput } from "./driver_job.ts";

if (import.meta.main) {
  const job = JSON.parse(
    await new Response(Deno.stdin.readable).text(),
  ) as DriverJob;
  const site = await buildAnchorSite(job.site);
  const server = serveFolders({ ...job.routes, ...site.routes }, {
    isolated: job.isolated,
    cacheable: job.cacheable,
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", ...(job.browserArgs ?? [])],
  });
  try {
    const results: unknown[] = [];
    const startLoad = Deno.loadavg()[0];
    const shared = job.sameContext ? await browser.newContext() : undefined;
    for (const call of job.calls) {
      const context = shared ?? await browser.newContext();
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
      if (shared) await page.close();
      else await context.close();
    }
    await shared?.close();
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
