/**
 * The wasm-anchor page and what it loads, ready to serve: vlmkit's browser
 * bundle (`vlm bundle --target browser`, without the demo page) with the
 * anchor page beside it, and wllama's package under `/wllama/`. Calls run in
 * Chromium through `driver.ts`, in a process of its own.
 *
 * @module
 */
import { buildBundle } from "../../cli/bundle_command.ts";
import type { DriverJob } from "./driver.ts";
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

/** Builds the site into `dir` (which must exist). */
export async function buildAnchorSite(dir: string): Promise<AnchorSite> {
  await buildBundle("browser", dir, { page: false });
  for (const file of ["anchor.html", "anchor.js"]) {
    await Deno.copyFile(new URL(file, PAGE), `${dir}/${file}`);
  }
  const wllama = await ensureWllama();
  return {
    routes: { "/": dir, "/wllama/": wllama.esm },
    wllamaVersion: wllama.version,
  };
}

/** Runs `job` in headless Chromium and returns each call's result. */
export async function runAnchorPage(job: DriverJob): Promise<unknown[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", DENO_JSON, DRIVER],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(job)));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  const line = new TextDecoder().decode(stdout).trim().split("\n").pop() ?? "";
  if (!success || !line.startsWith("[")) {
    throw new Error(
      `the wasm-anchor page failed:\n${new TextDecoder().decode(stderr)}`,
    );
  }
  return JSON.parse(line);
}
