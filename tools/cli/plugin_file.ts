/**
 * Plugins from files, for `vlm task --plugin FILE NAME` and
 * `vlm serve --plugin FILE`. A plugin file is an ES module loaded by dynamic
 * import: a `.ts` file under Deno (its `vlmkit/plugin` import resolves to this
 * vlmkit) or a bundle from `vlm plugin bundle` (self-contained, any imports).
 * It exports plugin factories (`export function shout(options)`) or
 * ready-made plugins (`export const yesNo = choice({...})`).
 *
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { VlmError } from "../../src/errors/vlm_error.ts";
import type { TaskPlugin } from "../../src/plugins/types.ts";
import { pluginProblems } from "../../src/plugins/validate_plugin.ts";

/** A loaded plugin file. */
export interface PluginFile {
  /** The path as given. */
  path: string;
  /** Its exports. */
  exports: Record<string, unknown>;
}

const SHAPE_FIX =
  "a plugin is {name, maxNewTokens, output, hooks} (see TaskPlugin in vlmkit/plugin); " +
  "export a factory returning one, or the plugin itself";

/** `my-task` → `myTask`: the factory name a task is looked up by. */
export function factoryName(task: string): string {
  return task.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Imports the plugin file at `path`. */
export async function loadPluginFile(path: string): Promise<PluginFile> {
  const absolute = resolve(path);
  try {
    if (!(await Deno.stat(absolute)).isFile) throw new Error("not a file");
  } catch (error) {
    throw new VlmError("input_invalid", `plugin file ${path} does not exist`, {
      fix: "pass the path of a .ts module or of a bundle from `vlm plugin bundle`",
      cause: error,
    });
  }
  try {
    return { path, exports: { ...await import(pathToFileURL(absolute).href) } };
  } catch (error) {
    throw new VlmError(
      "plugin_failed",
      `plugin file ${path} could not be imported: ${(error as Error).message}`,
      {
        fix: "bundle it with `vlm plugin bundle " + path +
          " --out plugin.js` (which resolves its imports through its own deno.json) and pass the .js",
        cause: error,
      },
    );
  }
}

function isPluginLike(value: unknown): boolean {
  return typeof value === "object" && value !== null && ("hooks" in value || "name" in value);
}

/** Checks what export `name` of `file` produced. */
function checked(file: PluginFile, name: string, value: unknown): TaskPlugin<unknown> {
  const problems = pluginProblems(value);
  if (problems.length) {
    throw new VlmError(
      "plugin_failed",
      `plugin file ${file.path}: export ${name} is not a plugin: ${problems.join("; ")}`,
      { fix: SHAPE_FIX },
    );
  }
  return value as TaskPlugin<unknown>;
}

/**
 * The plugin for task `task` from `file`, made with `options`: an exported
 * plugin named `task`, else the factory exported as `task` in camelCase (or
 * the default export) called with `options`.
 */
export function pluginForTask(
  file: PluginFile,
  task: string,
  options: Record<string, unknown>,
): TaskPlugin<unknown> {
  const ready = Object.entries(file.exports).find(([, value]) =>
    isPluginLike(value) && (value as { name?: unknown }).name === task
  );
  if (ready) {
    if (Object.keys(options).length) {
      throw new VlmError(
        "input_invalid",
        `plugin file ${file.path}: export ${ready[0]} is a ready-made plugin and takes no --option`,
        { fix: "drop --option, or export the factory and call it with the options" },
      );
    }
    return checked(file, ready[0], ready[1]);
  }
  const exportName = factoryName(task) in file.exports ? factoryName(task) : "default";
  const factory = file.exports[exportName];
  if (factory === undefined) {
    throw new VlmError(
      "input_invalid",
      `plugin file ${file.path} has no plugin "${task}": it exports no plugin of that name, no ` +
        `factory \`${factoryName(task)}\` and no default (its exports: ${
          Object.keys(file.exports).join(", ") || "none"
        })`,
      {
        fix: `name the task as the file's plugin is named, or export its factory as ` +
          `\`export function ${factoryName(task)}(options)\``,
      },
    );
  }
  const plugin = checked(
    file,
    exportName,
    typeof factory === "function" ? factory(options) : factory,
  );
  if (plugin.name !== task) {
    throw new VlmError(
      "input_invalid",
      `plugin file ${file.path}: export ${exportName} makes task "${plugin.name}", not "${task}"`,
      { fix: `run it as vlm task --plugin ${file.path} ${plugin.name}` },
    );
  }
  return plugin;
}

/**
 * Every plugin `file` provides without options: its exported plugins, and
 * each exported function called as a factory with no options.
 */
export function pluginsOfFile(file: PluginFile): TaskPlugin<unknown>[] {
  const plugins: TaskPlugin<unknown>[] = [];
  for (const [name, value] of Object.entries(file.exports)) {
    if (typeof value === "function") {
      let made: unknown;
      try {
        made = value();
      } catch (error) {
        throw new VlmError(
          "plugin_failed",
          `plugin file ${file.path}: factory ${name}() fails without options: ${
            (error as Error).message
          }`,
          {
            fix: `give ${name}'s options defaults, or export a configured plugin ` +
              `(export const mine = ${name}({...})) and keep the factory out of this file`,
            cause: error,
          },
        );
      }
      plugins.push(checked(file, `${name}()`, made));
    } else if (isPluginLike(value)) {
      plugins.push(checked(file, name, value));
    }
  }
  if (!plugins.length) {
    throw new VlmError("plugin_failed", `plugin file ${file.path} exports no plugin`, {
      fix: SHAPE_FIX,
    });
  }
  return plugins;
}
