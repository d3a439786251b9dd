/**
 * The wasm-anchor page and what it loads, ready to serve: vlmkit's browser
 * bundle (`vlm bundle --target browser`, without the demo page) with the
 * anchor page beside it, and wllama's package under `/wllama/`. Calls run in
 * Chromium through `driver.ts`, in a process of its own.
 *
 * @module
 */
import { buildBundle } from "../../cli/bundle_command.ts";
import type { DriverJob, DriverOutput } from "./driver_job.ts";
import { ensureWllama } from "./install.ts";

const PAGE = new URL("./page/", import.meta.url);
const DRIVER = new URL("./driver.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../../deno.json", import.meta.url).pathname;

/** A built site: its routes and wllama's version. */
export interface AnchorSite {
  /** `/` → the page and vlmkit's bundle; `/wllama/` → wllama's ES module and binary. */
  routes: Record<string, string>;
  /** wllama's package version. */
  wllamaVersion: string;
}

/** Builds the site into `dir` (created if absent) unless it is there already. */
export async function buildAnchorSite(dir: string): Promise<AnchorSite> {
  const built = await Deno.stat(`${dir}/anchor.js`).then(
    () => true,
    () => false,
  );
  await Deno.mkdir(dir, { recursive: true });
  if (!built) await buildBundle("browser", dir, { page: false });
  for (
    const file of [
      "anchor.html",
      "anchor.js",
      "decode_probe.js",
      "bandwidth_probe.js",
      "matmul_probe.js",
      "copy_out_probe.js",
    ]
  ) {
    await Deno.copyFile(new URL(file, PAGE), `${dir}/${file}`);
  }
  const wllama = await ensureWllama();
  return {
    routes: { "/": dir, "/wllama/": wllama.esm },
    wllamaVersion: wllama.version,
  };
}

/** Runs `job` in headless Chromium (in a process of its own) and returns what it printed. */
export async function runAnchorPage(job: DriverJob): Promise<DriverOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", DENO_JSON, DRIVER],
    stdin: "piped",
    stdout: "piped",
    stderr: job.verbose ? "inherit" : "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(job)));
  await writer.close();
  const [out, err, status] = await Promise.all([
    new Response(child.stdout).text(),
    job.verbose ? "(its log is above)" : new Response(child.stderr).text(),
    child.status,
  ]);
  const line = out.trim().split("\n").pop() ?? "";
  if (!status.success || !line.startsWith("{")) {
    throw new Error(`the wasm-anchor page failed:\n${err}`);
  }
  return JSON.parse(line);
}
