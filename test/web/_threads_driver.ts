// Loads the browser bundle in a cross-origin isolated Chromium page, runs the same greedy
// request with the wasm backend on 1 and then 2 threads (a fresh page each: ONNX Runtime fixes
// its thread count once per page), and prints both answers and the ORT worker threads started.
// Run in its own process with -A: deno run -A _threads_driver.ts SITE MODEL
import { chromium } from "playwright-core";
import { serveFolders } from "../../tools/static_server.ts";

const [site, model] = Deno.args;
const server = serveFolders({ "/": site, "/model/": model }, { isolated: true });
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const results = [];
  for (const threads of [1, 2]) {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(240_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${server.origin}/threads.html`);
    await page.waitForFunction("globalThis.run !== undefined", null, { timeout: 60_000 });
    const result = await Promise.race([
      page.evaluate((t) => (globalThis as unknown as { run(t: number): unknown }).run(t), threads),
      new Promise((resolve) => setTimeout(() => resolve({ timedOut: true }), 120_000)),
    ]);
    results.push({ threads, result, errors });
    await page.context().close();
  }
  console.log(JSON.stringify(results));
} finally {
  await browser.close();
  await server.close();
}
