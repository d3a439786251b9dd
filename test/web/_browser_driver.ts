// Drives the demo page in headless Chromium and prints one JSON report on stdout.
// Run by browser_page_test.ts in its own process (`deno run -A`): Playwright needs
// sys, env and net access that the test suite's own permissions do not include.
//
//   deno run -A test/web/_browser_driver.ts SITE_DIR MODEL_DIR IMAGE SCREENSHOT PROMPT

import { chromium } from "playwright-core";
import { serveFolders } from "../../tools/static_server.ts";

export interface DriverReport {
  /** `data-state` of the page when generation ended. */
  state: string;
  answer: string;
  /** Whether the answer was marked as an error. */
  error: boolean;
  status: string;
  loadMs: string;
  ttftMs: string;
  tokensPerSec: string;
  tokens: string;
  /** Text changes of the answer element while streaming. */
  answerUpdates: number;
  /** Requests the page made, as `STATUS /path`. */
  requests: string[];
  /** Console errors and uncaught page errors. */
  pageErrors: string[];
}

const [site, model, image, screenshot, prompt] = Deno.args;
const server = serveFolders({ "/": site, "/models/tiny/": model });
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    // Missing files are checked from the server's request log instead.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      pageErrors.push(message.text());
    }
  });
  await page.goto(`${server.origin}/index.html?model=/models/tiny/`);
  await page.waitForSelector("body[data-state=ready], body[data-state=error]", { timeout: 30_000 });
  if (await page.getAttribute("body", "data-state") === "ready") {
    await page.setInputFiles("#image", image);
    await page.fill("#prompt", prompt);
    await page.fill("#max-tokens", "12");
    // Counts the answer's text changes (evaluated in the page, hence a string).
    await page.evaluate(`
      globalThis.answerUpdates = 0;
      new MutationObserver((records) => globalThis.answerUpdates += records.length)
        .observe(document.getElementById("answer"), { childList: true, subtree: true });
    `);
    await page.click("#run");
    await page.waitForSelector("#answer[data-done]", { timeout: 30_000 });
  }
  const text = (selector: string) => page.textContent(selector).then((t) => t ?? "");
  const report: DriverReport = {
    state: await page.getAttribute("body", "data-state") ?? "",
    answer: await text("#answer"),
    error: await page.getAttribute("#answer", "data-error") !== null,
    status: await text("#status"),
    loadMs: await text("#load-ms"),
    ttftMs: await text("#ttft-ms"),
    tokensPerSec: await text("#tokens-per-sec"),
    tokens: await text("#tokens"),
    answerUpdates: await page.evaluate<number>("globalThis.answerUpdates ?? 0"),
    requests: server.requests,
    pageErrors,
  };
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify(report));
} finally {
  await browser.close();
  await server.close();
}
