/**
 * Checks that a value is a task plugin, listing every problem, for plugins
 * that arrive from outside the type checker: a file loaded by
 * `vlm task --plugin`, a bundle, `createServerHandler`'s `plugins`.
 *
 * @module
 */
import type { TaskPlugin } from "./types.ts";

/** Task names: lower-case kebab, as `model.task(name)` and `POST /v1/tasks/{name}` take them. */
const TASK_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const HOOKS = ["prompt", "preprocess", "logitsProcessor", "stop", "onToken", "postprocess"];

function hasSafeParse(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    typeof (value as { safeParse?: unknown }).safeParse === "function";
}

/** Every way `value` falls short of a `TaskPlugin` (empty when it is one). */
export function pluginProblems(value: unknown): string[] {
  if (typeof value !== "object" || value === null) {
    return [`it is ${value === null ? "null" : typeof value}, not a plugin object`];
  }
  const plugin = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof plugin.name !== "string") problems.push("name (a string) is missing");
  else if (!TASK_NAME.test(plugin.name)) {
    problems.push(`name "${plugin.name}" is not lower-case kebab (e.g. "my-task")`);
  }
  const max = plugin.maxNewTokens;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
    problems.push("maxNewTokens (a positive integer) is missing");
  }
  if (!hasSafeParse(plugin.output)) {
    problems.push("output (a schema with safeParse, e.g. a zod schema) is missing");
  }
  if (plugin.optionsSchema !== undefined && !hasSafeParse(plugin.optionsSchema)) {
    problems.push("optionsSchema has no safeParse");
  }
  if (typeof plugin.hooks !== "object" || plugin.hooks === null) {
    problems.push("hooks (an object, may be empty) is missing");
  } else {
    const hooks = plugin.hooks as Record<string, unknown>;
    for (const key of Object.keys(hooks)) {
      if (!HOOKS.includes(key)) problems.push(`hooks.${key} is not a hook (${HOOKS.join(", ")})`);
      else if (hooks[key] !== undefined && typeof hooks[key] !== "function") {
        problems.push(`hooks.${key} is not a function`);
      }
    }
  }
  return problems;
}

/** Whether `value` is a well-formed `TaskPlugin`. */
export function isTaskPlugin(value: unknown): value is TaskPlugin<unknown> {
  return pluginProblems(value).length === 0;
}
