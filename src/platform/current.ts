/**
 * Which {@linkcode Platform} vlmkit uses: detected on first use (Deno, then
 * Node, else web), or set by the host.
 *
 * @module
 */
import { hasBuiltins } from "./builtin.ts";
import { denoPlatform, isDeno } from "./deno.ts";
import { nodePlatform } from "./node.ts";
import type { Platform } from "./types.ts";
import { webPlatform } from "./web.ts";

let current: Platform | undefined;

/** The adapter for the running host: Deno, Node (20.16+), or web (no file system). */
export function detectPlatform(): Platform {
  if (isDeno()) return denoPlatform();
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (node?.versions?.node && hasBuiltins()) return nodePlatform();
  return webPlatform();
}

/** The platform in use (detected once, unless {@linkcode setPlatform} chose one). */
export function platform(): Platform {
  return current ??= detectPlatform();
}

/**
 * Makes vlmkit use `host` for files, environment and hashing (e.g. a test
 * double, or a host's own storage); `undefined` returns to detection.
 */
export function setPlatform(host: Platform | undefined): void {
  current = host;
}
