/**
 * Node built-in modules (`node:fs/promises`, `node:crypto`) fetched at run
 * time through `process.getBuiltinModule` (Node ≥ 20.16, Deno 2), so no
 * `node:` import appears in the module graph and web or edge bundles stay
 * free of them.
 *
 * @module
 */
import { VlmError } from "../errors/vlm_error.ts";

interface BuiltinHost {
  process?: { getBuiltinModule?: (name: string) => unknown };
}

/** Whether the host can hand out Node built-in modules. */
export function hasBuiltins(): boolean {
  return typeof (globalThis as BuiltinHost).process?.getBuiltinModule === "function";
}

/** The built-in module `name` (e.g. `node:crypto`), or a `usage` error saying what is needed. */
export function builtin<T>(name: string): T {
  const get = (globalThis as BuiltinHost).process?.getBuiltinModule;
  const module = typeof get === "function" ? get(name) : undefined;
  if (!module) {
    throw new VlmError("usage", `this runtime does not provide ${name}`, {
      fix: "run on Node 20.16 or newer, or Deno 2",
    });
  }
  return module as T;
}
